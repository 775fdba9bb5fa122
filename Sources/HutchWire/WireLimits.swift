/// Every length and range the protocol allows (Protocols/wire.md "Limits"). Encoding and decoding
/// check the same numbers, so whatever one peer encodes the other decodes.
public enum WireLimits {
    /// Frame 0 of every message: "HUTCH" followed by the version byte.
    public static let signature: [UInt8] = Array("HUTCH".utf8)
    public static let version: UInt8 = 1

    /// Most frames in one message (signature, command and up to eight fields), routing id excluded.
    public static let maxFrames = 10

    public static let nameBytes = 1...64
    public static let textBytes = 0...1024
    public static let threads: ClosedRange<UInt64> = 1...4096
    public static let credit: ClosedRange<UInt64> = 1...65536
    public static let heartbeatMs: ClosedRange<UInt64> = 100...600_000
    public static let liveness: ClosedRange<UInt64> = 2...100
    public static let leaseMs: ClosedRange<UInt64> = 100...86_400_000
    public static let digestsPerMessage = 0...64
    public static let taskBodyBytes = 0...(1 << 20)
    public static let resultBodyBytes = 0...(1 << 20)
    public static let resultValues = 0...(1 << 20)
    public static let chunkBytes: ClosedRange<UInt64> = 1...(1 << 20)
    public static let planBytes = 1...(4 << 20)
    public static let statusBytes = 0...(1 << 20)

    /// Largest single frame (a full RESULT values frame). ZeroMQ applies ZMQ_MAXMSGSIZE to each
    /// frame, so this is the value to give it.
    public static let maxFrameBytes = resultValues.upperBound * 8

    /// Paranoid Pirate defaults (ZeroMQ guide ch. 4).
    public static let defaultHeartbeatMs: UInt32 = 1000
    public static let defaultLiveness: UInt32 = 3
    public static let defaultChunkBytes: UInt32 = 256 << 10
}
