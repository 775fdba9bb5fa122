import Foundation
import HutchClusterCore
import HutchModel
import HutchWire

/// The worker's --cache directory: fetched blobs on disk as DIR/<64 hex digits> (the
/// `DirectoryBlobStore` the worker writes them to as they arrive), so that later jobs and a
/// restarted worker need not fetch them again.
public enum BlobCache {
    /// Creates DIR if needed and opens it as the fetched-blob store: partial blobs of an earlier
    /// process are removed, and so is every blob that no longer matches its digest (hashed a chunk
    /// at a time).
    public static func open(_ directory: String, log: (String) -> Void) throws -> DirectoryBlobStore {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw BlobCacheError(description: "cannot create the cache directory '\(directory)': \((error as NSError).localizedDescription)")
        }
        let store = DirectoryBlobStore(directory: directory)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names.sorted() {
            let path = URL(fileURLWithPath: directory).appendingPathComponent(name).path
            if name.count == 64 + ".partial".count, name.hasSuffix(".partial") {
                try? FileManager.default.removeItem(atPath: path)
            } else if name.count == 64, let digest = WireDigest("sha256:" + name),
                      (try? Digest.sha256(fileAt: path)).flatMap({ WireDigest($0) }) != digest {
                log("cache: \(path) does not match its digest; removed")
                try? FileManager.default.removeItem(atPath: path)
            }
        }
        return store
    }
}

/// A blob directory cannot be created or written (one line).
public struct BlobCacheError: Error, Sendable, CustomStringConvertible {
    public let description: String
}
