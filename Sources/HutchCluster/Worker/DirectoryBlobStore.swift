import Foundation
import HutchClusterCore
import HutchWire

/// The worker process's produced RESULT blobs as files DIR/<64 hex digits>, read back one chunk
/// at a time when the coordinator pulls them: memory holds the layer being computed, not every
/// layer the worker quantized. `hutch worker` uses a fresh temporary directory and removes it
/// when it exits; a worker that could not (killed) leaves it to the next worker on the host.
public struct DirectoryBlobStore: ProducedBlobStore {
    public let directory: String
    /// The lock of a `temporary()` directory: held until `remove()` or the process ends, so
    /// that a later worker knows the directory is in use.
    let lock: HeldLock?

    public init(directory: String) { self.init(directory: directory, lock: nil) }

    init(directory: String, lock: HeldLock?) {
        self.directory = directory
        self.lock = lock
    }

    static let prefix = "hutch-produced-"
    /// What a directory is called until it is locked: never under `prefix` unlocked.
    static let creatingPrefix = "hutch-producing-"
    static let lockName = ".in-use"

    /// A new private directory under the system's temporary directory, locked (flock) for this
    /// process's life. First removes the directories of earlier workers that died without
    /// removing theirs (SIGKILL, the OOM killer): those whose lock nobody holds.
    public static func temporary() throws -> DirectoryBlobStore {
        let parent = NSTemporaryDirectory()
        removeAbandoned(in: parent)
        var template = Array((parent + "/" + creatingPrefix + "XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }) else {
            throw BlobCacheError(description: "cannot create a temporary directory for result blobs in \(parent): \(String(cString: strerror(errno)))")
        }
        let creating = String(cString: made)
        let directory = parent + "/" + prefix + creating.dropFirst(parent.count + 1 + creatingPrefix.count)
        let fd = open(creating + "/" + lockName, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0, flock(fd, LOCK_EX | LOCK_NB) == 0, rename(creating, directory) == 0 else {
            let reason = String(cString: strerror(errno))
            if fd >= 0 { close(fd) }
            try? FileManager.default.removeItem(atPath: creating)
            throw BlobCacheError(description: "cannot lock a result blob directory in \(parent): \(reason)")
        }
        return DirectoryBlobStore(directory: directory, lock: HeldLock(fd))
    }

    /// Removes the produced-blob directories in `parent` whose lock file no process holds, and
    /// directories still being created an hour after they were made (their process died then).
    static func removeAbandoned(in parent: String) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []
        for name in names {
            let directory = parent + "/" + name
            if name.hasPrefix(prefix) {
                let fd = open(directory + "/" + lockName, O_RDWR | O_CLOEXEC)
                guard fd >= 0 else { continue }   // not made by this scheme: not ours to judge
                if flock(fd, LOCK_EX | LOCK_NB) == 0 { try? FileManager.default.removeItem(atPath: directory) }
                close(fd)
            } else if name.hasPrefix(creatingPrefix),
                      let made = (try? FileManager.default.attributesOfItem(atPath: directory))?[.modificationDate] as? Date,
                      Date().timeIntervalSince(made) > 3600 {
                try? FileManager.default.removeItem(atPath: directory)
            }
        }
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

    /// Removes the directory and the blobs in it, and lets go of its lock.
    public func remove() {
        try? FileManager.default.removeItem(atPath: directory)
        lock?.release()
    }
}

/// An open file descriptor holding an flock, closed once.
final class HeldLock: @unchecked Sendable {
    private let guardLock = NSLock()
    private var fd: Int32
    init(_ fd: Int32) { self.fd = fd }
    func release() {
        guardLock.lock(); defer { guardLock.unlock() }
        if fd >= 0 { close(fd); fd = -1 }
    }
}
