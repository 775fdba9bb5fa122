import CZeroMQ
#if canImport(Glibc)
import Glibc
#endif

public struct ZMQPollEvents: OptionSet, Hashable, Sendable {
    public let rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }
    public static let readable = ZMQPollEvents(rawValue: Int16(ZMQ_POLLIN))
    public static let writable = ZMQPollEvents(rawValue: Int16(ZMQ_POLLOUT))
}

/// zmq_poll over several sockets of the calling thread.
public enum ZMQPoller {
    /// Waits until one of the sockets has one of its requested events or `timeoutMs` passes
    /// (-1 waits forever: avoid). Returns the ready events per item, in order (all empty on
    /// timeout). EINTR restarts the wait with the remaining time.
    public static func poll(_ items: [(socket: ZMQSocket, events: ZMQPollEvents)],
                            timeoutMs: Int) throws(ZMQError) -> [ZMQPollEvents] {
        var pollItems: [zmq_pollitem_t] = []
        for item in items {
            pollItems.append(zmq_pollitem_t(socket: try item.socket.open("poll"), fd: 0,
                                            events: item.events.rawValue, revents: 0))
        }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .milliseconds(max(timeoutMs, 0)))
        var remaining = timeoutMs
        while true {
            let count = pollItems.withUnsafeMutableBufferPointer {
                zmq_poll($0.baseAddress, Int32($0.count), remaining)
            }
            if count >= 0 { break }
            let code = zmq_errno()
            guard code == EINTR else { throw ZMQError(errno: code, operation: "poll") }
            if timeoutMs >= 0 {
                let left = clock.now.duration(to: deadline)
                remaining = max(0, Int(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))
            }
            for i in pollItems.indices { pollItems[i].revents = 0 }
        }
        return pollItems.map { ZMQPollEvents(rawValue: $0.revents).intersection([.readable, .writable]) }
    }
}
