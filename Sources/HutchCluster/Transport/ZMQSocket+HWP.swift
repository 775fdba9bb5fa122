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
    /// ROUTER_HANDOVER, TCP keepalive and no ZMTP heartbeats (`deadLinkKeepalive`). With `curve`,
    /// a CURVE server whose connections the given ZAP handler (running in `context`) admits, and
    /// whose handshake failures it logs.
    public static func coordinatorRouter(_ context: ZMQContext, bind endpoint: String,
                                         curve: (config: CurveServerConfig, zap: ZAPHandler)? = nil) throws(ZMQError) -> ZMQSocket {
        let socket = try ZMQSocket(context, type: .router)
        if let curve {
            try curve.zap.watchHandshakes(of: socket)
            try socket.makeCurveServer(curve.config)
        }
        try socket.setMaxMessageSize(Int64(WireLimits.maxFrameBytes))
        try socket.setRouterMandatory(true)
        try socket.setRouterHandover(true)
        try socket.setDeadLinkKeepalive()
        try socket.bind(endpoint)
        return socket
    }

    /// A worker's DEALER, connected: routing id "W" + instance (little-endian), reconnect back-off
    /// 1000 → 32000 ms, MAXMSGSIZE from the protocol limits, TCP keepalive and no ZMTP
    /// heartbeats; a CURVE client with `curve`.
    public static func workerDealer(_ context: ZMQContext, connect endpoint: String, instance: UInt64,
                                    reconnectMs: Int32 = 1000, reconnectMaxMs: Int32 = 32000,
                                    curve: CurveClientConfig? = nil) throws(ZMQError) -> ZMQSocket {
        let socket = try unconnectedWorkerDealer(context, instance: instance, reconnectMs: reconnectMs,
                                                 reconnectMaxMs: reconnectMaxMs, curve: curve)
        try socket.connect(endpoint)
        return socket
    }

    /// `workerDealer` before its connect (to attach a monitor first).
    static func unconnectedWorkerDealer(_ context: ZMQContext, instance: UInt64, reconnectMs: Int32 = 1000,
                                        reconnectMaxMs: Int32 = 32000, curve: CurveClientConfig?) throws(ZMQError) -> ZMQSocket {
        let socket = try ZMQSocket(context, type: .dealer)
        if let curve { try socket.makeCurveClient(curve) }
        try socket.setRoutingID(workerRoutingID(instance: instance))
        try socket.setMaxMessageSize(Int64(WireLimits.maxFrameBytes))
        try socket.setReconnect(interval: reconnectMs, maximum: reconnectMaxMs)
        try socket.setDeadLinkKeepalive()
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

    /// Dead links are found by the HWP's own HEARTBEAT (the application's liveness) and, below
    /// it, by TCP keepalive (idle 10 s, then 3 probes 5 s apart). ZMTP heartbeats stay off: in
    /// libzmq 4.3.4 a ZMTP heartbeat timeout on a connection whose input stopped (a peer that
    /// floods and never reads fills the receive queue) aborts the whole process with
    /// "Assertion failed: !_io_error" (stream_engine_base.cpp:331).
    func setDeadLinkKeepalive() throws(ZMQError) {
        try setTCPKeepalive(idleSeconds: 10, intervalSeconds: 5, count: 3)
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
