import HutchModel
import HutchWire

/// Where a `--fetch-blobs` worker writes the model and data blobs it fetches (wire.md 5.5),
/// chunk by chunk as they arrive, so that its memory holds a window of chunks, never a whole
/// blob. Injected so the core stays pure: the worker process writes files by digest
/// (`DirectoryBlobStore`, its --cache directory or its temporary one); the simulator and tests
/// keep them in memory.
public protocol FetchedBlobStore: Sendable {
    /// Whether a blob is held whole and verified.
    func holds(_ digest: WireDigest) -> Bool
    /// Where the compute dispatcher's reader finds a held blob (the worker process: a file path).
    func location(_ digest: WireDigest) -> String
    /// Starts an empty partial blob, replacing any earlier partial one.
    mutating func begin(_ digest: WireDigest) throws
    /// Writes a chunk of the partial blob at `offset` (chunks may come in any order).
    mutating func write(_ digest: WireDigest, offset: UInt64, _ bytes: [UInt8]) throws
    /// Ends the partial blob: kept as held when its bytes hash to `digest` (true), else removed (false).
    mutating func finish(_ digest: WireDigest) throws -> Bool
    /// Drops a partial blob (a failed fetch).
    mutating func discard(_ digest: WireDigest)
}

extension FetchedBlobStore {
    /// Keeps a blob that came whole (a PLAN body); false when it does not match `digest`.
    mutating func keepWhole(_ digest: WireDigest, _ bytes: [UInt8]) throws -> Bool {
        try begin(digest)
        try write(digest, offset: 0, bytes)
        return try finish(digest)
    }
}

/// The in-memory store fetches blobs too (for the simulator and tests).
extension MemoryBlobStore: FetchedBlobStore {
    public func holds(_ digest: WireDigest) -> Bool { blobs[digest] != nil }

    public func location(_ digest: WireDigest) -> String { digest.description }

    public mutating func begin(_ digest: WireDigest) { partial[digest] = [] }

    public mutating func write(_ digest: WireDigest, offset: UInt64, _ bytes: [UInt8]) {
        var data = partial[digest] ?? []
        let end = Int(offset) + bytes.count
        if data.count < end { data += [UInt8](repeating: 0, count: end - data.count) }
        data.replaceSubrange(Int(offset)..<end, with: bytes)
        partial[digest] = data
    }

    public mutating func finish(_ digest: WireDigest) -> Bool {
        let data = partial.removeValue(forKey: digest) ?? []
        guard WireDigest(Digest.sha256(data)) == digest else { return false }
        blobs[digest] = data
        return true
    }

    public mutating func discard(_ digest: WireDigest) { partial[digest] = nil }
}
