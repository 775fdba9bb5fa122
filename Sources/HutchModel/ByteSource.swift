import Foundation

/// Bytes read by range: a file read a chunk at a time (`FileByteSource`) or bytes already in
/// memory (`ByteArraySource`). The data readers take one, so a calibration file is never held
/// whole in memory.
public protocol ByteSource {
    /// Its size in bytes.
    var count: Int { get }
    /// The bytes of `range`, which lies within 0..<count.
    func bytes(_ range: Range<Int>) throws -> [UInt8]
}

extension ByteSource {
    /// Calls `body` with the bytes of `range` in order, at most `chunkBytes` at a time.
    func forEachChunk(of range: Range<Int>, chunkBytes: Int, _ body: ([UInt8]) throws -> Void) throws {
        var start = range.lowerBound
        while start < range.upperBound {
            let end = start + min(max(1, chunkBytes), range.upperBound - start)
            try body(try bytes(start..<end))
            start = end
        }
    }
}

/// Bytes in memory (tests, a simulated worker's files, a file that is no regular file).
public struct ByteArraySource: ByteSource {
    public let all: [UInt8]
    public init(_ bytes: [UInt8]) { all = bytes }
    public var count: Int { all.count }
    public func bytes(_ range: Range<Int>) -> [UInt8] { Array(all[range]) }
}

/// A regular file read by positioned reads (pread): nothing is held but what a caller asks for.
/// The size is taken when it is opened; a file that shrinks after that fails its next read.
public final class FileByteSource: ByteSource {
    public let path: String
    public let count: Int
    private let descriptor: Int32

    /// Opens `path`; nil when it cannot be opened or is no regular file (a caller then reads it
    /// whole, which reports why it cannot, as before).
    public init?(path: String) {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        var status = stat()
        guard fstat(fd, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            return nil
        }
        self.path = path
        descriptor = fd
        count = Int(status.st_size)
    }

    deinit { close(descriptor) }

    public func bytes(_ range: Range<Int>) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: range.count)
        var done = 0
        while done < range.count {
            let n = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + done, range.count - done, off_t(range.lowerBound + done)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let reason = n == 0 ? "it ended at byte \(range.lowerBound + done) of \(count); it changed while being read" : String(cString: strerror(errno))
                throw ModelError.unreadableFile(path: path, reason: reason)
            }
            done += n
        }
        return bytes
    }
}

extension FileByteSource {
    /// `path` read a chunk at a time; when it does not open as a regular file, the bytes `read`
    /// gives for it whole (a pipe or device), or the error `read` reports, as before streaming.
    public static func open(_ path: String, elseReading read: (String) throws -> [UInt8]) rethrows -> any ByteSource {
        if let file = FileByteSource(path: path) { return file }
        return ByteArraySource(try read(path))
    }
}
