import CZeroMQ

/// Connections that fail before ZAP is asked: libzmq checks the security mechanism and the
/// CURVE handshake itself, so a plaintext (NULL) client or one with the wrong coordinator key
/// never reaches the ZAP handler. A socket monitor (zmq_socket_monitor) reports those failures.
enum HandshakeMonitor {
    static let events = ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL

    /// One line for a monitor event (two frames: u16 event · u32 value, then an endpoint), nil
    /// for events that are not refusals.
    static func describe(_ frames: [[UInt8]]) -> String? {
        guard let event = MonitorEvent(frames: frames) else { return nil }
        let (value, endpoint) = (event.value, event.endpoint)
        let why: String
        switch event.kind {
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
            switch Int32(bitPattern: value) {
            case ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH:
                why = "security mechanism mismatch (a plaintext client, or one started without --curve-key)"
            case ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC, ZMQ_PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE:
                why = "CURVE handshake failed (the client does not have this coordinator's public key)"
            default:
                why = "handshake protocol error 0x\(String(value, radix: 16))"
            }
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
            // libzmq 4.3 reports a plaintext client to a CURVE server this way
            why = "handshake failed (a plaintext client, or one without this coordinator's public key)"
        default:
            return nil
        }
        return "refused a connection on \(endpoint): \(why)"
    }
}

extension ZMQSocket {
    /// Starts a monitor of `events` published on the inproc `endpoint` (zmq_socket_monitor);
    /// call on the socket's thread, before bind.
    func startMonitor(_ endpoint: String, events: Int32) throws(ZMQError) {
        let socket = try open("zmq_socket_monitor")
        guard zmq_socket_monitor(socket, endpoint, events) == 0 else { throw ZMQError.last("zmq_socket_monitor") }
    }
}
