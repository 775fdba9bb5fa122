import CZeroMQ

/// A CURVE key (Curve25519, as ZeroMQ's CURVE mechanism uses it): 32 bytes, written as 40 Z85
/// characters.
public struct CurveKey: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) throws(SecurityError) {
        guard bytes.count == 32 else { throw SecurityError(.invalidKey, "a CURVE key is 32 bytes, got \(bytes.count)") }
        self.bytes = bytes
    }

    /// From its 40 Z85 characters.
    public init(z85 text: String) throws(SecurityError) {
        guard text.utf8.count == 40 else {
            throw SecurityError(.invalidKey, "a CURVE key is 40 Z85 characters, got \(text.utf8.count)")
        }
        try self.init(bytes: try Z85.decode(text))
    }

    /// The 40 Z85 characters. Z85 of 32 bytes cannot fail.
    public var z85: String { (try? Z85.encode(bytes)) ?? "" }

    /// The Z85 text; never print a secret key's description.
    public var description: String { z85 }
}

/// A CURVE keypair: the secret key and the public key derived from it.
public struct CurveKeyPair: Hashable, Sendable {
    public let publicKey: CurveKey
    public let secretKey: CurveKey

    /// A fresh random keypair (libzmq with libsodium).
    public static func generate() throws(SecurityError) -> CurveKeyPair {
        try requireCurve()
        var publicText = [CChar](repeating: 0, count: 41), secretText = [CChar](repeating: 0, count: 41)
        guard zmq_curve_keypair(&publicText, &secretText) == 0 else {
            throw SecurityError(.unavailable, "zmq_curve_keypair failed: \(String(cString: zmq_strerror(zmq_errno())))")
        }
        return CurveKeyPair(publicKey: try CurveKey(z85: string(publicText)), secretKey: try CurveKey(z85: string(secretText)))
    }

    /// The keypair of a secret key: its public key is derived (zmq_curve_public).
    public init(secretKey: CurveKey) throws(SecurityError) {
        try Self.requireCurve()
        var publicText = [CChar](repeating: 0, count: 41)
        let secretText = Array(secretKey.z85.utf8CString)
        guard zmq_curve_public(&publicText, secretText) == 0 else {
            throw SecurityError(.unavailable, "zmq_curve_public failed: \(String(cString: zmq_strerror(zmq_errno())))")
        }
        self.init(publicKey: try CurveKey(z85: Self.string(publicText)), secretKey: secretKey)
    }

    init(publicKey: CurveKey, secretKey: CurveKey) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// libzmq built without libsodium/tweetnacl has no CURVE.
    static func requireCurve() throws(SecurityError) {
        guard zmq_has("curve") == 1 else {
            throw SecurityError(.unavailable, "this libzmq has no CURVE support; install a libzmq built with libsodium")
        }
    }

    static func string(_ text: [CChar]) -> String {
        String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
