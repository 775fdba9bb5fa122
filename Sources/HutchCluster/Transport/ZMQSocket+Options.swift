import CZeroMQ

/// Typed setters for the options Hutch uses. Times are milliseconds.
extension ZMQSocket {
    func setOption(_ option: Int32, _ name: String, int value: Int32) throws(ZMQError) {
        var value = value
        let socket = try open("setsockopt \(name)")
        guard zmq_setsockopt(socket, option, &value, MemoryLayout<Int32>.size) == 0 else {
            throw ZMQError.last("setsockopt \(name)")
        }
    }

    func setOption(_ option: Int32, _ name: String, bytes: [UInt8]) throws(ZMQError) {
        let socket = try open("setsockopt \(name)")
        let status = bytes.withUnsafeBytes { zmq_setsockopt(socket, option, $0.baseAddress, $0.count) }
        guard status == 0 else { throw ZMQError.last("setsockopt \(name)") }
    }

    /// How long close keeps unsent messages (0 = drop; -1 = forever, never use).
    public func setLinger(milliseconds: Int32) throws(ZMQError) {
        try setOption(ZMQ_LINGER, "ZMQ_LINGER", int: milliseconds)
    }

    /// Largest inbound frame; a peer sending a larger one is disconnected. Use
    /// `WireLimits.maxFrameBytes`.
    public func setMaxMessageSize(_ bytes: Int64) throws(ZMQError) {
        var value = bytes
        let socket = try open("setsockopt ZMQ_MAXMSGSIZE")
        guard zmq_setsockopt(socket, ZMQ_MAXMSGSIZE, &value, MemoryLayout<Int64>.size) == 0 else {
            throw ZMQError.last("setsockopt ZMQ_MAXMSGSIZE")
        }
    }

    /// ROUTER only: sending to an unknown routing id throws `.hostUnreachable` instead of dropping.
    public func setRouterMandatory(_ on: Bool) throws(ZMQError) {
        try setOption(ZMQ_ROUTER_MANDATORY, "ZMQ_ROUTER_MANDATORY", int: on ? 1 : 0)
    }

    /// ROUTER only: a new connection with an existing routing id takes it over (a worker that
    /// reconnected) instead of being refused.
    public func setRouterHandover(_ on: Bool) throws(ZMQError) {
        try setOption(ZMQ_ROUTER_HANDOVER, "ZMQ_ROUTER_HANDOVER", int: on ? 1 : 0)
    }

    /// TCP keepalive: the kernel probes an idle connection after `idleSeconds`, every
    /// `intervalSeconds`, and closes it after `count` unanswered probes, so a half-open link
    /// (a host that vanished without a FIN) does not hold a socket forever. Used instead of ZMTP
    /// heartbeats, which abort libzmq 4.3.4 when they time out on a connection whose input was
    /// stopped by a full receive queue (Protocols/wire.md, section 2).
    public func setTCPKeepalive(idleSeconds: Int32, intervalSeconds: Int32, count: Int32) throws(ZMQError) {
        try setOption(ZMQ_TCP_KEEPALIVE, "ZMQ_TCP_KEEPALIVE", int: 1)
        try setOption(ZMQ_TCP_KEEPALIVE_IDLE, "ZMQ_TCP_KEEPALIVE_IDLE", int: idleSeconds)
        try setOption(ZMQ_TCP_KEEPALIVE_INTVL, "ZMQ_TCP_KEEPALIVE_INTVL", int: intervalSeconds)
        try setOption(ZMQ_TCP_KEEPALIVE_CNT, "ZMQ_TCP_KEEPALIVE_CNT", int: count)
    }

    /// An integer option's current value (tests read back what the factories set).
    public func intOption(_ option: Int32, _ name: String) throws(ZMQError) -> Int32 {
        var value: Int32 = 0
        var size = MemoryLayout<Int32>.size
        let socket = try open("getsockopt \(name)")
        guard zmq_getsockopt(socket, option, &value, &size) == 0 else { throw ZMQError.last("getsockopt \(name)") }
        return value
    }

    /// Reconnect delay, doubling up to `maximum` (Paranoid Pirate: 1000 → 32000).
    public func setReconnect(interval: Int32, maximum: Int32) throws(ZMQError) {
        try setOption(ZMQ_RECONNECT_IVL, "ZMQ_RECONNECT_IVL", int: interval)
        try setOption(ZMQ_RECONNECT_IVL_MAX, "ZMQ_RECONNECT_IVL_MAX", int: maximum)
    }

    /// The routing id this socket presents to a ROUTER (1–255 bytes, not starting with 0);
    /// set before connect.
    public func setRoutingID(_ id: [UInt8]) throws(ZMQError) {
        guard (1...255).contains(id.count), id[0] != 0 else {
            throw ZMQError(kind: .invalidArgument, operation: "setsockopt ZMQ_ROUTING_ID",
                           message: "routing id must be 1-255 bytes and not start with a zero byte")
        }
        try setOption(ZMQ_ROUTING_ID, "ZMQ_ROUTING_ID", bytes: id)
    }

    public func setSendHighWaterMark(_ messages: Int32) throws(ZMQError) {
        try setOption(ZMQ_SNDHWM, "ZMQ_SNDHWM", int: messages)
    }

    public func setReceiveHighWaterMark(_ messages: Int32) throws(ZMQError) {
        try setOption(ZMQ_RCVHWM, "ZMQ_RCVHWM", int: messages)
    }

    // CURVE (issue 7 wires these to keys and a ZAP handler). Keys are 32 raw bytes.

    public func setCurveServer(_ on: Bool) throws(ZMQError) {
        try setOption(ZMQ_CURVE_SERVER, "ZMQ_CURVE_SERVER", int: on ? 1 : 0)
    }

    public func setCurveSecretKey(_ key: [UInt8]) throws(ZMQError) {
        try setCurveKey(ZMQ_CURVE_SECRETKEY, "ZMQ_CURVE_SECRETKEY", key)
    }

    public func setCurvePublicKey(_ key: [UInt8]) throws(ZMQError) {
        try setCurveKey(ZMQ_CURVE_PUBLICKEY, "ZMQ_CURVE_PUBLICKEY", key)
    }

    public func setCurveServerKey(_ key: [UInt8]) throws(ZMQError) {
        try setCurveKey(ZMQ_CURVE_SERVERKEY, "ZMQ_CURVE_SERVERKEY", key)
    }

    private func setCurveKey(_ option: Int32, _ name: String, _ key: [UInt8]) throws(ZMQError) {
        guard key.count == 32 else {
            throw ZMQError(kind: .invalidArgument, operation: "setsockopt \(name)",
                           message: "a CURVE key is 32 raw bytes, got \(key.count)")
        }
        try setOption(option, name, bytes: key)
    }
}
