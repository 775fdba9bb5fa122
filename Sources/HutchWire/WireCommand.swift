/// The command byte (frame 1). Values are fixed by Protocols/wire.md; never renumber.
public enum WireCommand: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case hello = 0x01
    case welcome = 0x02
    case credit = 0x03
    case heartbeat = 0x04
    case task = 0x05
    case result = 0x06
    case failure = 0x07
    case blobRequest = 0x08
    case blobChunk = 0x09
    case blobUnknown = 0x0A
    case plan = 0x0B
    case disconnect = 0x0C
    case error = 0x0D
    case statusRequest = 0x0E
    case status = 0x0F

    /// The spec's name, e.g. "BLOB_CHUNK".
    public var description: String {
        switch self {
        case .hello: "HELLO"
        case .welcome: "WELCOME"
        case .credit: "CREDIT"
        case .heartbeat: "HEARTBEAT"
        case .task: "TASK"
        case .result: "RESULT"
        case .failure: "FAILURE"
        case .blobRequest: "BLOB_REQUEST"
        case .blobChunk: "BLOB_CHUNK"
        case .blobUnknown: "BLOB_UNKNOWN"
        case .plan: "PLAN"
        case .disconnect: "DISCONNECT"
        case .error: "ERROR"
        case .statusRequest: "STATUS_REQUEST"
        case .status: "STATUS"
        }
    }

    /// The field names after the command frame, in frame order (as in Protocols/wire.md and in
    /// WireError's field names).
    public var fieldNames: [String] {
        switch self {
        case .hello: ["capabilities", "instance", "name", "threads", "credit", "heartbeat_ms"]
        case .welcome: ["job", "epoch", "heartbeat_ms", "liveness", "max_credit", "max_chunk_bytes", "max_frame_bytes"]
        case .credit: ["credit"]
        case .heartbeat, .statusRequest: []
        case .task: ["task_id", "lease_id", "lease_ms", "kind", "blobs", "body"]
        case .result: ["task_id", "lease_id", "kind", "blobs", "body", "values"]
        case .failure: ["task_id", "lease_id", "class", "message"]
        case .blobRequest: ["digest", "offset", "length"]
        case .blobChunk: ["digest", "offset", "total_bytes", "data"]
        case .blobUnknown: ["digest"]
        case .plan: ["digest", "body"]
        case .disconnect: ["reason", "message"]
        case .error: ["code", "command", "message"]
        case .status: ["json"]
        }
    }
}
