import Foundation
import HutchClusterCore
import HutchWire

/// Fetched blobs on disk: DIR/<64 hex digits>, verified when loaded, so that later jobs and a
/// restarted worker need not fetch them again.
public enum BlobCache {
    /// Creates DIR if needed and preloads every blob in it that matches its digest.
    public static func load(_ directory: String, into core: inout WorkerCore, log: (String) -> Void) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw BlobCacheError(description: "cannot create the cache directory '\(directory)': \((error as NSError).localizedDescription)")
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names where name.count == 64 {
            guard let digest = WireDigest("sha256:" + name),
                  let data = FileManager.default.contents(atPath: URL(fileURLWithPath: directory).appendingPathComponent(name).path) else { continue }
            if !core.preload(digest, [UInt8](data)) {
                log("cache: \(directory)/\(name) does not match its digest; ignored")
            }
        }
    }

    /// Keeps a fetched blob; a failure only costs a later fetch, so it is logged.
    public static func store(_ digest: WireDigest, _ bytes: [UInt8], in directory: String, log: (String) -> Void) {
        let name = String(digest.description.dropFirst("sha256:".count))
        let path = URL(fileURLWithPath: directory).appendingPathComponent(name).path
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            log("cache: cannot keep blob \(digest) in \(directory): cannot write '\(path)': \((error as NSError).localizedDescription)")
        }
    }
}

/// The cache directory cannot be created.
public struct BlobCacheError: Error, Sendable, CustomStringConvertible {
    public let description: String
}
