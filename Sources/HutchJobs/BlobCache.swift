import Foundation
import HutchCluster
import HutchWire

/// Fetched blobs on disk: DIR/<64 hex digits>, verified when loaded.
enum BlobCache {
    static func load(_ directory: String, into core: inout WorkerCore) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw CommandFailure(.io, "cannot create the cache directory '\(directory)': \((error as NSError).localizedDescription)")
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

    static func store(_ digest: WireDigest, _ bytes: [UInt8], in directory: String) {
        let name = String(digest.description.dropFirst("sha256:".count))
        do {
            try writeAtomically(Data(bytes), to: URL(fileURLWithPath: directory).appendingPathComponent(name).path)
        } catch {
            log("cache: cannot keep blob \(digest) in \(directory): \(describe(error).message)")
        }
    }
}
