import HutchWire

/// A received HWP message with the peer it came from (the ROUTER routing id; empty on a DEALER),
/// or why it was not a valid message. Malformed input is reported, never thrown: the loop answers
/// it (ERROR) or drops it and carries on.
public enum HWPIncoming: Hashable, Sendable {
    case message(peer: [UInt8], WireMessage)
    case malformed(peer: [UInt8], WireError)
}

/// The sockets of Protocols/wire.md with its recommended options, and message-level send/receive.
extension ZMQSocket {
    /// The coordinator's ROUTER, bound: MAXMSGSIZE from the protocol limits, ROUTER_MANDATORY,
    /// ROUTER_HANDOVER, ZMTP heartbeats at the session rate. With `curve`, a CURVE server whose
    /// connections the given ZAP handler (running in `context`) admits, and whose handshake
    /// failures it logs.
    public static func coordinatorRouter(_ context: ZMQContext, bind endpoint: String,
                                         heartbeatMs: UInt32 = WireLimits.defaultHeartbeatMs,
                                         liveness: UInt32 = WireLimits.defaultLiveness,
                                         curve: (config: CurveServerConfig, zap: ZAPHandler)? = nil) throws(ZMQError) -> ZMQSocket {
        let socket = try ZMQSocket(context, type: .router)
        if let curve {
            try curve.zap.watchHandshakes(of: socket)
            try socket.makeCurveServer(curve.config)
        }
        try socket.setMaxMessageSize(Int64(WireLimits.maxFrameBytes))
        try socket.setRouterMandatory(true)
        try socket.setRouterHandover(true)
        try socket.setZMTPHeartbeat(heartbeatMs: heartbeatMs, liveness: liveness)
        try socket.bind(endpoint)
        return socket
    }

    /// A worker's DEALER, connected: routing id "W" + instance (little-endian), reconnect back-off
    /// 1000 → 32000 ms, MAXMSGSIZE from the protocol limits; a CURVE client with `curve`.
    public static func workerDealer(_ context: ZMQContext, connect endpoint: String, instance: UInt64,
                                    heartbeatMs: UInt32 = WireLimits.defaultHeartbeatMs,
                                    liveness: UInt32 = WireLimits.defaultLiveness,
                                    reconnectMs: Int32 = 1000, reconnectMaxMs: Int32 = 32000,
                                    curve: CurveClientConfig? = nil) throws(ZMQError) -> ZMQSocket {
        let socket = try ZMQSocket(context, type: .dealer)
        if let curve { try socket.makeCurveClient(curve) }
        try socket.setRoutingID(workerRoutingID(instance: instance))
        try socket.setMaxMessageSize(Int64(WireLimits.maxFrameBytes))
        try socket.setReconnect(interval: reconnectMs, maximum: reconnectMaxMs)
        try socket.setZMTPHeartbeat(heartbeatMs: heartbeatMs, liveness: liveness)
        try socket.connect(endpoint)
        return socket
    }

    /// `hutch status`'s DEALER, connected: MAXMSGSIZE from the protocol limits; a CURVE client
    /// with `curve`.
    public static func statusDealer(_ context: ZMQContext, connect endpoint: String,
                                    curve: CurveClientConfig? = nil) throws(ZMQError) -> ZMQSocket {
        let socket = try ZMQSocket(context, type: .dealer)
        if let curve { try socket.makeCurveClient(curve) }
        try socket.setMaxMessageSize(Int64(WireLimits.maxFrameBytes))
        try socket.connect(endpoint)
        return socket
    }

    /// "W" followed by the 8 little-endian bytes of the HELLO instance.
    public static func workerRoutingID(instance: UInt64) -> [UInt8] {
        [UInt8(ascii: "W")] + (0..<8).map { UInt8(truncatingIfNeeded: instance >> (8 * $0)) }
    }

    private func setZMTPHeartbeat(heartbeatMs: UInt32, liveness: UInt32) throws(ZMQError) {
        let interval = Int32(clamping: heartbeatMs)
        let timeout = Int32(clamping: UInt64(heartbeatMs) * UInt64(liveness))
        try setHeartbeat(interval: interval, timeout: timeout, ttl: timeout)
    }

    /// Encodes and sends `message`, prefixed by `peer` on a ROUTER. Returns false if it would
    /// block (`dontWait`). Throws WireError if the message breaks a limit, ZMQError otherwise.
    @discardableResult
    public func send(_ message: WireMessage, to peer: [UInt8]? = nil, dontWait: Bool = false) throws -> Bool {
        let frames = try WireCodec.encode(message)
        return try send(peer.map { [$0] + frames } ?? frames, dontWait: dontWait)
    }

    /// Waits up to `timeoutMs` for one message and decodes it; nil on timeout. A ROUTER's
    /// routing id is split off as the peer.
    public func receiveHWP(timeoutMs: Int) throws(ZMQError) -> HWPIncoming? {
        let ready = try ZMQPoller.poll([(self, .readable)], timeoutMs: timeoutMs)
        guard ready[0].contains(.readable) else { return nil }
        return try receiveHWP(dontWait: true)
    }

    /// Receives and decodes one message (nil if none is waiting with `dontWait`).
    public func receiveHWP(dontWait: Bool = false) throws(ZMQError) -> HWPIncoming? {
        let routed = type == .router
        let envelope = routed ? 1 : 0
        guard let (frames, total) = try receiveBounded(maxFrames: WireLimits.maxFrames + envelope,
                                                       dontWait: dontWait) else { return nil }
        let peer = routed ? (frames.first ?? []) : []
        guard total <= WireLimits.maxFrames + envelope else {
            return .malformed(peer: peer, .tooManyFrames(count: total - envelope, limit: WireLimits.maxFrames))
        }
        do {
            return .message(peer: peer, try WireCodec.decode(Array(frames.dropFirst(envelope))))
        } catch {
            return .malformed(peer: peer, error)
        }
    }
}
