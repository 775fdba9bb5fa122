import Foundation

/// Where the streaming writers put bytes, in order: a file (`FileSink`) or memory (`ByteArraySink`).
public protocol ByteSink {
    mutating func write(_ bytes: [UInt8]) throws
}

/// Bytes gathered in memory (tests, and `externalized`'s side file).
public struct ByteArraySink: ByteSink {
    public var bytes: [UInt8] = []
    public init() {}
    public mutating func write(_ more: [UInt8]) { bytes += more }
}

/// Bytes appended to an open file; small writes are gathered into 1 MiB blocks, large ones go
/// straight through, so memory holds at most one block and the caller's array.
public struct FileSink: ByteSink {
    public let handle: FileHandle
    var pending: [UInt8] = []
    static let blockBytes = 1 << 20

    public init(_ handle: FileHandle) { self.handle = handle }

    public mutating func write(_ bytes: [UInt8]) throws {
        if pending.count + bytes.count <= Self.blockBytes {
            pending += bytes
            return
        }
        try flush()
        if bytes.count >= Self.blockBytes { try handle.write(contentsOf: bytes) } else { pending = bytes }
    }

    /// Writes what is gathered; call before closing the file.
    public mutating func flush() throws {
        guard !pending.isEmpty else { return }
        try handle.write(contentsOf: pending)
        pending.removeAll(keepingCapacity: true)
    }
}
