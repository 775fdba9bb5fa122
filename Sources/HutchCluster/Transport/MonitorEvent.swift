/// One zmq_socket_monitor event: two frames, u16 event · u32 value (little-endian), then the
/// endpoint (`kind` is a ZMQ_EVENT_* constant).
public struct MonitorEvent: Sendable, Equatable {
    public var kind: Int32
    public var value: UInt32
    public var endpoint: String

    public init(kind: Int32, value: UInt32, endpoint: String = "") {
        self.kind = kind
        self.value = value
        self.endpoint = endpoint
    }

    /// nil if the frames are not a monitor event.
    public init?(frames: [[UInt8]]) {
        guard frames.count == 2, frames[0].count == 6 else { return nil }
        kind = Int32(frames[0][0]) | Int32(frames[0][1]) << 8
        value = (2..<6).reduce(UInt32(0)) { $0 | UInt32(frames[0][$1]) << (8 * UInt32($1 - 2)) }
        endpoint = String(decoding: frames[1].prefix(200), as: UTF8.self)
    }
}
