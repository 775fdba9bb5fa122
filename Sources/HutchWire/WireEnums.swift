/// Small closed enumerations carried as one byte (or two for error codes). An unknown value is a
/// decode error: adding a value needs a protocol version bump.

/// What a TASK asks for; RESULT repeats it so a result can be checked without a lookup.
public enum TaskKind: UInt8, Sendable, CaseIterable {
    case sensitivity = 1
    case quantizationError = 2
    case quantize = 3
}

/// Whether another worker (or the same one later) may succeed with the same task.
public enum FailureClass: UInt8, Sendable, CaseIterable {
    case retryable = 1
    case poison = 2
}

public enum DisconnectReason: UInt8, Sendable, CaseIterable {
    /// The sender is stopping (signal, operator).
    case shutdown = 1
    /// The job is finished; workers may exit.
    case jobComplete = 2
    /// Versions or capabilities do not match.
    case incompatible = 3
    /// Not allowed to join (e.g. duplicate name, too many workers).
    case rejected = 4
    /// The peer was silent for liveness × heartbeat interval.
    case expired = 5
}

/// ERROR codes: why a message was not accepted.
public enum WireErrorCode: UInt16, Sendable, CaseIterable {
    /// The message failed to decode (any WireError).
    case malformed = 1
    /// Frame 0 names another protocol version.
    case unsupportedVersion = 2
    /// A message other than HELLO from a peer without a handshake: send HELLO again.
    case notWelcomed = 3
    /// A valid message that the receiver does not accept in this direction or state.
    case unexpected = 4
    /// RESULT/FAILURE for a task id the coordinator does not know.
    case unknownTask = 5
    /// More TASKs sent than credit, or CREDIT beyond the WELCOME limit.
    case creditExceeded = 6
    /// A result failed validation (shape, kind, values).
    case invalidResult = 7
}

/// Feature bits a worker announces in HELLO. Unknown bits are kept (and re-encoded) untouched.
public struct Capabilities: OptionSet, Hashable, Sendable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let sensitivity = Capabilities(rawValue: 1 << 0)
    public static let exactTrace = Capabilities(rawValue: 1 << 1)
    public static let quantizationError = Capabilities(rawValue: 1 << 2)
    public static let quantize = Capabilities(rawValue: 1 << 3)
    /// The worker can read blobs from a shared filesystem path instead of BLOB_CHUNKs.
    public static let sharedFilesystem = Capabilities(rawValue: 1 << 4)
}
