import Foundation
import HutchClusterCore
import HutchModel
import HutchWire

/// Fetched blobs as files DIR/<64 hex digits>: each chunk is written to DIR/<hex>.partial as it
/// arrives, and the file is hashed from disk after the last one and renamed into place only if it
/// matches, so a name without ".partial" is always a verified blob.
extension DirectoryBlobStore: FetchedBlobStore {
    func partialPath(_ digest: WireDigest) -> String { path(digest) + ".partial" }

    public func holds(_ digest: WireDigest) -> Bool { FileManager.default.fileExists(atPath: path(digest)) }

    public func location(_ digest: WireDigest) -> String { path(digest) }

    public func begin(_ digest: WireDigest) throws {
        guard FileManager.default.createFile(atPath: partialPath(digest), contents: nil) else {
            throw BlobCacheError(description: "cannot create '\(partialPath(digest))': \(String(cString: strerror(errno)))")
        }
    }

    public func write(_ digest: WireDigest, offset: UInt64, _ bytes: [UInt8]) throws {
        do {
            guard let handle = FileHandle(forWritingAtPath: partialPath(digest)) else { throw CocoaError(.fileNoSuchFile) }
            defer { try? handle.close() }
            try handle.seek(toOffset: offset)
            try handle.write(contentsOf: bytes)
        } catch {
            throw BlobCacheError(description: "cannot write '\(partialPath(digest))': \((error as NSError).localizedDescription)")
        }
    }

    public func finish(_ digest: WireDigest) throws -> Bool {
        guard WireDigest(try Digest.sha256(fileAt: partialPath(digest))) == digest else {
            discard(digest)
            return false
        }
        guard rename(partialPath(digest), path(digest)) == 0 else {
            throw BlobCacheError(description: "cannot rename '\(partialPath(digest))': \(String(cString: strerror(errno)))")
        }
        return true
    }

    public func discard(_ digest: WireDigest) { try? FileManager.default.removeItem(atPath: partialPath(digest)) }
}
