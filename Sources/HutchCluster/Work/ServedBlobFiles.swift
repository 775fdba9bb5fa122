import Foundation
import HutchClusterCore
import HutchModel
import HutchWire

/// The coordinator process's served blobs: the model and data files themselves, read one chunk
/// per BLOB_REQUEST (memory holds a chunk, never a whole file). Each file is opened when the job
/// starts and kept open, and its digest and size are taken then: a file removed or
/// replaced (renamed over) under the job is still served as it was; one that shrinks in place
/// draws an ERROR for the requests past its new end, and one whose bytes change in place fails
/// the worker's digest check after the last chunk (a digest cannot be checked per chunk).
public struct ServedBlobFiles: ServedBlobSource {
    /// An open file, closed when the last copy of the source goes.
    final class File: @unchecked Sendable {   // the descriptor never changes; positioned reads share it safely
        let fd: Int32, size: UInt64
        init(fd: Int32, size: UInt64) { self.fd = fd; self.size = size }
        deinit { close(fd) }
    }
    var files: [WireDigest: File] = [:]

    public init() {}

    public var digests: [WireDigest] { Array(files.keys) }

    /// Serves the file at `path`; returns its digest ("sha256:…"), streamed from the file unless
    /// `digest` gives it (a file just written from bytes of that digest). Throws `ModelError`
    /// (one line) when the file cannot be read.
    public mutating func add(_ path: String, digest known: String? = nil) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ModelError.unreadableFile(path: path, reason: "cannot open it to serve it: \(String(cString: strerror(errno)))") }
        guard let size = FileChunk.size(fd: fd) else {
            close(fd)
            throw ModelError.unreadableFile(path: path, reason: "cannot read its size")
        }
        let file = File(fd: fd, size: size)
        let digest = try known ?? Digest.sha256(fileAt: path)
        if let d = WireDigest(digest) { files[d] = file }
        return digest
    }

    public func size(_ digest: WireDigest) -> UInt64? { files[digest]?.size }

    public func read(_ digest: WireDigest, offset: UInt64, length: Int) throws -> [UInt8] {
        guard let file = files[digest] else { throw ServedBlobError("blob \(digest) is not served") }
        guard let (_, bytes) = FileChunk.read(fd: file.fd, offset: offset, length: UInt64(length)) else {
            throw ServedBlobError("blob \(digest) cannot be read from its file at offset \(offset): \(String(cString: strerror(errno)))")
        }
        return bytes
    }
}
