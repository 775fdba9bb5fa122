import CZeroMQ

/// A libzmq context. Thread-safe (libzmq guarantees it), so it is Sendable; sockets are not.
/// Every socket keeps its context alive, so the context is terminated only after its last
/// socket closed, and sockets default to LINGER 0 so termination never blocks.
public final class ZMQContext: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer

    /// `ioThreads`: libzmq I/O threads (1 is enough below ~1 GB/s). `maxSockets`: libzmq's
    /// default is 1023 sockets per context; a benchmark simulating many workers in one process
    /// needs more (and a matching `ulimit -n`).
    public init(ioThreads: Int32 = 1, maxSockets: Int32? = nil) throws(ZMQError) {
        guard let handle = zmq_ctx_new() else { throw ZMQError.last("zmq_ctx_new") }
        if zmq_ctx_set(handle, ZMQ_IO_THREADS, ioThreads) != 0
            || (maxSockets.map { zmq_ctx_set(handle, ZMQ_MAX_SOCKETS, $0) } ?? 0) != 0 {
            let error = ZMQError.last("zmq_ctx_set")
            zmq_ctx_term(handle)
            throw error
        }
        self.handle = handle
    }

    deinit {
        while zmq_ctx_term(handle) != 0 && zmq_errno() == EINTR {}
    }

    /// libzmq's version, e.g. (4, 3, 4).
    public static var version: (major: Int32, minor: Int32, patch: Int32) {
        var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
        zmq_version(&major, &minor, &patch)
        return (major, minor, patch)
    }
}
