import CZeroMQ

/// CURVE for the coordinator's ROUTER: its keypair and the worker keys its ZAP handler admits.
public struct CurveServerConfig: Sendable {
    public var keyPair: CurveKeyPair
    public var authorized: AuthorizedKeys

    public init(keyPair: CurveKeyPair, authorized: AuthorizedKeys) {
        self.keyPair = keyPair
        self.authorized = authorized
    }
}

/// CURVE for a worker's or status client's DEALER: its keypair and the coordinator's public key.
public struct CurveClientConfig: Sendable {
    public var keyPair: CurveKeyPair
    public var serverKey: CurveKey

    public init(keyPair: CurveKeyPair, serverKey: CurveKey) {
        self.keyPair = keyPair
        self.serverKey = serverKey
    }
}

extension ZMQSocket {
    /// The ZAP domain of the coordinator's socket. Setting one also sends NULL-mechanism peers to
    /// ZAP (libzmq skips ZAP for NULL without a domain); with CURVE on, such peers fail the
    /// handshake's mechanism check first anyway.
    public static let zapDomain = "hutch"

    /// Makes this socket a CURVE server (before bind). A ZAP handler must run in its context.
    public func makeCurveServer(_ config: CurveServerConfig) throws(ZMQError) {
        try setOption(ZMQ_ZAP_DOMAIN, "ZMQ_ZAP_DOMAIN", bytes: Array(Self.zapDomain.utf8))
        try setCurveServer(true)
        try setCurveSecretKey(config.keyPair.secretKey.bytes)
    }

    /// Makes this socket a CURVE client of the server with `config.serverKey` (before connect).
    public func makeCurveClient(_ config: CurveClientConfig) throws(ZMQError) {
        try setCurveServerKey(config.serverKey.bytes)
        try setCurvePublicKey(config.keyPair.publicKey.bytes)
        try setCurveSecretKey(config.keyPair.secretKey.bytes)
    }
}
