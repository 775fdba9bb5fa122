import HutchWire

/// Where the coordinator reads the blobs it serves to `--fetch-blobs` workers (model, data;
/// wire.md 5.5): one chunk per BLOB_REQUEST, read on request, so no served blob is held whole.
/// Injected so the core stays pure: the coordinator process reads the files
/// (`ServedBlobFiles`, each file's size and digest taken when the job starts); the simulator and
/// tests keep the blobs in memory (`MemoryBlobSource`).
public protocol ServedBlobSource: Sendable {
    /// The blobs served (any order: every TASK lists them sorted by digest).
    var digests: [WireDigest] { get }
    /// The blob's size in bytes as taken when the job started; nil for a blob not served.
    func size(_ digest: WireDigest) -> UInt64?
    /// At most `length` bytes of the blob from `offset` (within its size); throws (one line)
    /// when they cannot be read.
    func read(_ digest: WireDigest, offset: UInt64, length: Int) throws -> [UInt8]
}

/// A served blob that could not be read as it was when the job started (one line).
public struct ServedBlobError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension ServedBlobSource {
    /// The blob's size and its bytes from `offset` (clamped to the end), at most `length` of
    /// them, as `BlobServing.answer` reads them: one read of one chunk. A read shorter than
    /// asked (the file shrank under the job) throws rather than serving a short chunk.
    func chunk(_ digest: WireDigest, offset: UInt64, length: UInt64) throws -> (total: UInt64, bytes: [UInt8])? {
        guard let total = size(digest) else { return nil }
        let start = min(offset, total), count = min(length, total - start)
        guard count > 0 else { return (total, []) }
        let bytes = try read(digest, offset: start, length: Int(count))
        guard bytes.count == count else {
            throw ServedBlobError("blob \(digest) changed since the job started: \(bytes.count) of \(count) bytes at offset \(start) could be read")
        }
        return (total, bytes)
    }
}

/// Served blobs in memory, for the simulator and tests.
public struct MemoryBlobSource: ServedBlobSource {
    let blobs: [WireDigest: [UInt8]]

    public init(_ blobs: [WireDigest: [UInt8]] = [:]) { self.blobs = blobs }

    public var digests: [WireDigest] { Array(blobs.keys) }

    public func size(_ digest: WireDigest) -> UInt64? { blobs[digest].map { UInt64($0.count) } }

    public func read(_ digest: WireDigest, offset: UInt64, length: Int) throws -> [UInt8] {
        guard let blob = blobs[digest] else { throw ServedBlobError("blob \(digest) is not served") }
        return BlobServing.slice(blob, offset: offset, length: UInt64(length)).bytes
    }
}
