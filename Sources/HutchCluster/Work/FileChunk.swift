import Foundation

/// One chunk of a file, read at its offset (the rest of the file is never loaded): how the
/// coordinator serves model and data files and how either side reads back a blob it keeps on disk.
enum FileChunk {
    /// The file's size and at most `length` of its bytes from `offset` (clamped to the end);
    /// nil when it cannot be opened or read.
    static func read(_ path: String, offset: UInt64, length: UInt64) -> (total: UInt64, bytes: [UInt8])? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return read(fd: fd, offset: offset, length: length)
    }

    /// The same from an open file descriptor (positioned reads: the descriptor's offset is not used).
    static func read(fd: Int32, offset: UInt64, length: UInt64) -> (total: UInt64, bytes: [UInt8])? {
        guard let total = size(fd: fd) else { return nil }
        let start = min(offset, total), count = Int(min(length, total - start))
        guard count > 0 else { return (total, []) }
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(start) + off_t(done)) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { return nil }
            if n == 0 { break }   // the file ended early (it shrank since fstat)
            done += n
        }
        return (total, Array(bytes.prefix(done)))
    }

    /// The size of an open file; nil when it cannot be read.
    static func size(fd: Int32) -> UInt64? {
        var status = stat()
        guard fstat(fd, &status) == 0 else { return nil }
        return UInt64(status.st_size)
    }
}
