import CZeroMQ
#if canImport(Glibc)
import Glibc
#endif

/// A failed libzmq call: which operation, the errno and zmq_strerror's text. "Would block"
/// (EAGAIN) and "interrupted" (EINTR) never surface here: the wrapper returns nil/false for the
/// first and retries the second.
public struct ZMQError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Hashable, Sendable {
        /// ROUTER_MANDATORY send to a routing id that is not connected (EHOSTUNREACH).
        case hostUnreachable
        /// The context was terminated (ETERM).
        case terminated
        /// Bind address in use (EADDRINUSE).
        case addressInUse
        /// A received message had more frames than the caller allows (the rest was drained).
        case tooManyFrames
        /// The socket was closed with `close()`.
        case closed
        /// Bad argument from this process (empty message, bad key length, EINVAL).
        case invalidArgument
        case other
    }

    public let kind: Kind
    public let operation: String
    public let errno: Int32
    public let message: String

    public var description: String { "zmq \(operation): \(message)" }

    init(kind: Kind, operation: String, message: String) {
        self.kind = kind; self.operation = operation; self.errno = 0; self.message = message
    }

    /// The error of the last failed zmq call on this thread.
    static func last(_ operation: String) -> ZMQError { ZMQError(errno: zmq_errno(), operation: operation) }

    init(errno code: Int32, operation: String) {
        self.errno = code
        self.operation = operation
        self.message = String(cString: zmq_strerror(code))
        switch code {
        case EHOSTUNREACH: kind = .hostUnreachable
        case ZMQError.eterm: kind = .terminated
        case EADDRINUSE: kind = .addressInUse
        case EINVAL: kind = .invalidArgument
        default: kind = .other
        }
    }

    /// ETERM is libzmq's own errno (ZMQ_HAUSNUMERO + 53).
    static let eterm: Int32 = 156_384_712 + 53
}
