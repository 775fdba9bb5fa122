import HutchWire

/// Where a worker keeps the RESULT blobs it produced (quantized layers over the inline limit)
/// until the coordinator has pulled them (wire.md 5.5). Injected so the core stays pure: the
/// worker process keeps them in files by digest (`DirectoryBlobStore`), so its memory holds
/// one layer at a time, not every layer it quantized; the simulator keeps them in memory.
/// The coordinator keeps the quantized layers it accepted in one too (`CoordinatorCore.layerStore`:
/// its state directory's layers/), until the export reads them back one at a time.
public protocol ProducedBlobStore: Sendable {
    /// Keeps `bytes` under `digest` (their SHA-256); throws when it cannot (one line).
    mutating func put(_ digest: WireDigest, _ bytes: [UInt8]) throws
    /// The blob's size and its bytes from `offset` (clamped to the end), at most `length` of
    /// them; nil when the blob is not held.
    func read(_ digest: WireDigest, offset: UInt64, length: UInt64) -> (total: UInt64, bytes: [UInt8])?
}

extension ProducedBlobStore {
    /// The whole blob, or nil when not held.
    public func bytes(_ digest: WireDigest) -> [UInt8]? { read(digest, offset: 0, length: UInt64.max)?.bytes }
}

/// Produced blobs in memory, for the simulator and tests (fetched ones too: FetchedBlobStore.swift).
public struct MemoryBlobStore: ProducedBlobStore {
    var blobs: [WireDigest: [UInt8]] = [:]
    /// Fetched blobs whose chunks are still arriving.
    var partial: [WireDigest: [UInt8]] = [:]

    public init() {}

    public mutating func put(_ digest: WireDigest, _ bytes: [UInt8]) { blobs[digest] = bytes }

    public func read(_ digest: WireDigest, offset: UInt64, length: UInt64) -> (total: UInt64, bytes: [UInt8])? {
        blobs[digest].map { BlobServing.slice($0, offset: offset, length: length) }
    }
}
