import CZeroMQ
#if canImport(Glibc)
import Glibc
#endif

/// Multipart send and receive through zmq_msg_t. A ROUTER's first frame is the peer's routing id
/// (on receive it is added, on send it selects the peer); a DEALER sends and receives bare frames.
extension ZMQSocket {
    /// Sends all frames as one message. Returns false if it would block (only with `dontWait`:
    /// high-water mark reached, or no peer yet); nothing was sent then. libzmq sends multipart
    /// messages atomically, so "would block" can only happen on the first frame.
    @discardableResult
    public func send(_ frames: [[UInt8]], dontWait: Bool = false) throws(ZMQError) -> Bool {
        let socket = try open("send")
        guard !frames.isEmpty else {
            throw ZMQError(kind: .invalidArgument, operation: "send", message: "a message needs at least one frame")
        }
        for (index, frame) in frames.enumerated() {
            var flags: Int32 = dontWait ? ZMQ_DONTWAIT : 0
            if index < frames.count - 1 { flags |= ZMQ_SNDMORE }
            var message = zmq_msg_t()
            guard zmq_msg_init_size(&message, frame.count) == 0 else { throw ZMQError.last("zmq_msg_init_size") }
            if !frame.isEmpty, let data = zmq_msg_data(&message) {
                frame.withUnsafeBytes { data.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            }
            while true {
                if zmq_msg_send(&message, socket, flags) >= 0 { break }
                let code = zmq_errno()
                if code == EINTR { continue }
                zmq_msg_close(&message)
                if code == EAGAIN && index == 0 { return false }
                throw ZMQError(errno: code, operation: "send")
            }
        }
        return true
    }

    /// Receives one whole message, or nil if none is waiting (`dontWait`). A message with more
    /// than `maxFrames` frames is read to its end and discarded with `.tooManyFrames`, so a
    /// hostile peer cannot make the caller buffer unbounded frame lists.
    public func receive(maxFrames: Int = 16, dontWait: Bool = false) throws(ZMQError) -> [[UInt8]]? {
        guard let (frames, total) = try receiveBounded(maxFrames: maxFrames, dontWait: dontWait) else { return nil }
        guard total <= maxFrames else {
            throw ZMQError(kind: .tooManyFrames, operation: "receive",
                           message: "message with \(total) frames discarded (at most \(maxFrames))")
        }
        return frames
    }

    /// The first `maxFrames` frames of the next message and its total frame count; the rest of
    /// an over-long message is read and dropped.
    func receiveBounded(maxFrames: Int, dontWait: Bool) throws(ZMQError) -> (frames: [[UInt8]], total: Int)? {
        let socket = try open("receive")
        var frames: [[UInt8]] = []
        var count = 0
        var more = true
        var userID: String?
        defer { lastUserID = userID }
        while more {
            var message = zmq_msg_t()
            zmq_msg_init(&message)
            defer { zmq_msg_close(&message) }
            // Only the first frame may block or fail with EAGAIN; the rest are already queued.
            let flags: Int32 = (dontWait && count == 0) ? ZMQ_DONTWAIT : 0
            while zmq_msg_recv(&message, socket, flags) < 0 {
                let code = zmq_errno()
                if code == EINTR { continue }
                if code == EAGAIN && count == 0 { return nil }
                throw ZMQError(errno: code, operation: "receive")
            }
            count += 1
            if userID == nil {
                // the ZAP user id travels with the peer's frames (not with a ROUTER's routing id)
                userID = zmq_msg_gets(&message, "User-Id").map { String(cString: $0) }
            }
            if count <= maxFrames {
                let size = zmq_msg_size(&message)
                if size > 0, let data = zmq_msg_data(&message) {
                    frames.append(Array(UnsafeRawBufferPointer(start: data, count: size)))
                } else {
                    frames.append([])
                }
            }
            more = zmq_msg_more(&message) != 0
        }
        return (frames, count)
    }

    /// Waits up to `timeoutMs` for a message and receives it; nil on timeout.
    public func receive(timeoutMs: Int, maxFrames: Int = 16) throws(ZMQError) -> [[UInt8]]? {
        let ready = try ZMQPoller.poll([(self, .readable)], timeoutMs: timeoutMs)
        guard ready[0].contains(.readable) else { return nil }
        return try receive(maxFrames: maxFrames, dontWait: true)
    }
}
