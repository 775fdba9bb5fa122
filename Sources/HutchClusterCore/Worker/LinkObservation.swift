/// What a worker's DEALER has seen of its link to the coordinator since its session was lost
/// (from the socket monitor's events), and the one-line reason it gives when no WELCOME comes:
/// nothing listening, a handshake refused, or a coordinator that accepts but does not answer.
/// A CURVE question is asked only where CURVE can be the cause. Pure: the shell maps libzmq's
/// monitor events to `Event`s and records them.
public struct LinkObservation: Sendable, Equatable {
    /// A handshake the coordinator refused, as libzmq reported it.
    public enum Refusal: Sendable, Equatable {
        /// One side uses CURVE, the other plaintext.
        case mechanismMismatch
        /// The CURVE key exchange failed (not the coordinator's public key).
        case curveKeys
        /// The coordinator's ZAP handler refused this worker's key (its status code).
        case notAuthorized(status: UInt32)
        /// Another handshake failure (libzmq gives no detail).
        case other
    }

    /// A TCP connection to the endpoint was made at least once.
    public var connected = false
    /// A ZMTP handshake completed (with CURVE: the coordinator admitted this worker's key).
    public var handshaken = false
    public var refusal: Refusal?

    public init() {}

    public mutating func record(_ event: Event) {
        switch event {
        case .connected: connected = true
        case .handshakeSucceeded: handshaken = true
        case .handshakeRefused(let why): refusal = why
        // A bare failure never hides the refusal libzmq explained earlier.
        case .handshakeFailed: if refusal == nil { refusal = .other }
        }
    }

    /// Why no WELCOME came from `endpoint`; `curve` says whether this worker uses CURVE.
    public func reason(endpoint: String, curve: Bool) -> String {
        switch refusal {
        case .mechanismMismatch?:
            return curve
                ? "the coordinator at \(endpoint) does not use CURVE: drop --curve-key and --coordinator-key, or start it with --curve-key"
                : "the coordinator at \(endpoint) uses CURVE: start this worker with --curve-key W.key --coordinator-key C.pub"
        case .curveKeys?:
            return "the CURVE handshake with \(endpoint) fails: is --coordinator-key the coordinator's .pub?"
        case .notAuthorized(let status)?:
            return "the coordinator at \(endpoint) refused this worker's CURVE key (ZAP status \(status)): add its public key to the coordinator's --authorized-keys"
        case .other?:
            return curve
                ? "the coordinator at \(endpoint) refuses the handshake: is --coordinator-key its .pub, and does its --authorized-keys list this worker's key?"
                : "the coordinator at \(endpoint) refuses the handshake: if it uses CURVE, start this worker with --curve-key W.key --coordinator-key C.pub"
        case nil:
            if !connected {
                return "nothing accepts connections at \(endpoint): is the coordinator running, and is this its --bind address and port?"
            }
            if handshaken { return "connected to \(endpoint), but the coordinator has not answered HELLO" }
            return curve
                ? "connected to \(endpoint), but the CURVE handshake does not complete: is --coordinator-key its .pub, and does its --authorized-keys list this worker's key?"
                : "connected to \(endpoint), but the handshake does not complete: if the coordinator uses CURVE, start this worker with --curve-key W.key --coordinator-key C.pub"
        }
    }
}
