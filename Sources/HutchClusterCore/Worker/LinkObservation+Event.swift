extension LinkObservation {
    /// A socket monitor event that says something about the link, named here so that the core
    /// need not know libzmq's constants (the shell maps them).
    public enum Event: Sendable, Equatable {
        /// A TCP connection to the endpoint was made.
        case connected
        /// A ZMTP handshake completed.
        case handshakeSucceeded
        /// The coordinator refused the handshake, for this reason.
        case handshakeRefused(Refusal)
        /// A handshake failed and libzmq gave no detail.
        case handshakeFailed
    }
}
