import Foundation
import HutchClusterCore
import HutchWire

/// The worker process's produced RESULT blobs as files DIR/<64 hex digits>, read back one chunk
/// at a time when the coordinator pulls them: memory holds the layer being computed, not every
/// layer the worker quantized. `hutch worker` uses a fresh temporary directory and removes it
/// when it exits.
public struct DirectoryBlobStore: ProducedBlobStore {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    /// A new private directory under the system's temporary directory.
    public static func temporary() throws -> DirectoryBlobStore {
        var template = Array((NSTemporaryDirectory() + "/hutch-produced-XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }) else {
            throw BlobCacheError(description: "cannot create a temporary directory for result blobs in \(NSTemporaryDirectory()): \(String(cString: strerror(errno)))")
        }
        return DirectoryBlobStore(directory: String(cString: made))
    }

    /// The file that holds (or will hold) the blob.
    public func path(_ digest: WireDigest) -> String {
        URL(fileURLWithPath: directory).appendingPathComponent(String(digest.description.dropFirst("sha256:".count))).path
    }

    public func put(_ digest: WireDigest, _ bytes: [UInt8]) throws {
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path(digest)), options: .atomic)
        } catch {
            throw BlobCacheError(description: "cannot write '\(path(digest))': \((error as NSError).localizedDescription)")
        }
    }

    public func read(_ digest: WireDigest, offset: UInt64, length: UInt64) -> (total: UInt64, bytes: [UInt8])? {
        FileChunk.read(path(digest), offset: offset, length: length)
    }

    /// Removes the directory and the blobs in it.
    public func remove() { try? FileManager.default.removeItem(atPath: directory) }
}
