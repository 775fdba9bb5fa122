import CZeroMQ
import HutchClusterCore

extension LinkObservation {
    /// The monitor events `record` understands (for zmq_socket_monitor).
    public static let events: Int32 = ZMQ_EVENT_CONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED
        | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH

    /// Records a libzmq monitor event; events that say nothing about the link are ignored.
    public mutating func record(_ event: MonitorEvent) {
        if let event = Event(event) { record(event) }
    }
}

extension LinkObservation.Event {
    /// The core's name for a libzmq monitor event (nil for the events it does not watch).
    init?(_ event: MonitorEvent) {
        switch event.kind {
        case ZMQ_EVENT_CONNECTED: self = .connected
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED: self = .handshakeSucceeded
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: self = .handshakeRefused(.notAuthorized(status: event.value))
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
            switch Int32(bitPattern: event.value) {
            case ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH: self = .handshakeRefused(.mechanismMismatch)
            case ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC, ZMQ_PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE: self = .handshakeRefused(.curveKeys)
            default: self = .handshakeRefused(.other)
            }
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL: self = .handshakeFailed
        default: return nil
        }
    }
}
