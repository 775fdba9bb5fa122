import CZeroMQ
#if canImport(Glibc)
import Glibc
#endif

/// One ZeroMQ socket. libzmq sockets are not thread-safe, so this class is deliberately not
/// Sendable: create it on the thread that uses it and keep it there (Swift 6 checks this).
/// Closed on `close()` or deinit; new sockets get LINGER 0 (pending messages are dropped at
/// close: the protocol is at-least-once, and a stuck peer must never block shutdown).
public final class ZMQSocket {
    public enum SocketType: Sendable {
        case router, dealer
        /// For inproc wake-ups between threads: a compute thread owns one end and the socket
        /// thread polls the other next to its ROUTER/DEALER.
        case pair
        /// For request/reply services in one process (the ZAP handler).
        case rep

        var raw: Int32 {
            switch self {
            case .router: ZMQ_ROUTER
            case .dealer: ZMQ_DEALER
            case .pair: ZMQ_PAIR
            case .rep: ZMQ_REP
            }
        }
    }

    public let type: SocketType
    private let context: ZMQContext
    private(set) var handle: UnsafeMutableRawPointer?
    /// The ZAP user id of the peer that sent the last received message (with CURVE: the
    /// authorized key's name), nil without ZAP.
    public internal(set) var lastUserID: String?

    public init(_ context: ZMQContext, type: SocketType) throws(ZMQError) {
        guard let handle = zmq_socket(context.handle, type.raw) else { throw ZMQError.last("zmq_socket") }
        self.context = context
        self.type = type
        self.handle = handle
        try setLinger(milliseconds: 0)
    }

    deinit { if let handle { zmq_close(handle) } }

    /// Closes now (idempotent); later calls throw `.closed`.
    public func close() {
        if let handle { zmq_close(handle) }
        handle = nil
    }

    func open(_ operation: String) throws(ZMQError) -> UnsafeMutableRawPointer {
        guard let handle else { throw ZMQError(kind: .closed, operation: operation, message: "socket is closed") }
        return handle
    }

    /// Binds, e.g. "tcp://127.0.0.1:*" (any free port; read `lastEndpoint`) or "inproc://name".
    public func bind(_ endpoint: String) throws(ZMQError) {
        let socket = try open("bind \(endpoint)")
        guard zmq_bind(socket, endpoint) == 0 else { throw ZMQError.last("bind \(endpoint)") }
    }

    /// Connects; succeeds before the peer exists (libzmq reconnects in the background).
    public func connect(_ endpoint: String) throws(ZMQError) {
        let socket = try open("connect \(endpoint)")
        guard zmq_connect(socket, endpoint) == 0 else { throw ZMQError.last("connect \(endpoint)") }
    }

    public func disconnect(_ endpoint: String) throws(ZMQError) {
        let socket = try open("disconnect \(endpoint)")
        guard zmq_disconnect(socket, endpoint) == 0 else { throw ZMQError.last("disconnect \(endpoint)") }
    }

    /// The endpoint of the last bind or connect, with the real port after binding port "*".
    public var lastEndpoint: String {
        get throws(ZMQError) {
            var buffer = [CChar](repeating: 0, count: 256)
            var size = buffer.count
            let socket = try open("getsockopt ZMQ_LAST_ENDPOINT")
            guard zmq_getsockopt(socket, ZMQ_LAST_ENDPOINT, &buffer, &size) == 0 else {
                throw ZMQError.last("getsockopt ZMQ_LAST_ENDPOINT")
            }
            return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }
}
