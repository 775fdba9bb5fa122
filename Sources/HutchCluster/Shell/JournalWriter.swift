import Foundation
import HutchClusterCore

/// A journal file or its directory could not be written or synced; one line.
public struct JournalIOError: Error, Sendable, CustomStringConvertible {
    public let description: String
    /// Another process holds the journal (a second coordinator on the same state directory).
    public var locked = false
}

/// Appends journal records to a file (Protocols/journal.md) and fsyncs them in groups: at most
/// `maxRecords` records or `maxDelayMs` after the first unsynced one, and whenever `sync()` is
/// called (before outputs are written, on a signal). A record written but not synced may be
/// lost in a crash; its result is then simply computed again.
public final class JournalWriter {
    public let path: String
    let fd: Int32
    public let maxRecords: Int
    public let maxDelayMs: UInt64
    var unsynced = 0
    var firstUnsyncedMs: UInt64?
    /// Records appended and fsyncs done by this writer.
    public private(set) var appended = 0
    public private(set) var syncs = 0

    init(path: String, fd: Int32, maxRecords: Int, maxDelayMs: UInt64) {
        self.path = path
        self.fd = fd
        self.maxRecords = maxRecords
        self.maxDelayMs = maxDelayMs
    }

    deinit { close(fd) }

    /// A new journal at `path` (replacing any file there) holding only `header`, synced with its directory.
    public static func create(path: String, header: JournalHeader, maxRecords: Int = 64, maxDelayMs: UInt64 = 100) throws(JournalIOError) -> JournalWriter {
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure("cannot create", path) }
        let writer = JournalWriter(path: path, fd: fd, maxRecords: maxRecords, maxDelayMs: maxDelayMs)
        try writer.lock()
        guard ftruncate(fd, 0) == 0 else { throw failure("cannot truncate", path) }
        try writer.write(JournalCodec.encode(header))
        try writer.sync()
        try syncDirectory(of: path)
        return writer
    }

    /// The existing journal at `path`, cut to its first `validBytes` (dropping a torn or
    /// corrupt tail) and positioned at its end.
    public static func resume(path: String, validBytes: Int, maxRecords: Int = 64, maxDelayMs: UInt64 = 100) throws(JournalIOError) -> JournalWriter {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("cannot open", path) }
        let writer = JournalWriter(path: path, fd: fd, maxRecords: maxRecords, maxDelayMs: maxDelayMs)
        try writer.lock()
        guard ftruncate(fd, off_t(validBytes)) == 0 else { throw failure("cannot truncate", path) }
        guard lseek(fd, 0, SEEK_END) >= 0 else { throw failure("cannot seek in", path) }
        try writer.sync()
        return writer
    }

    /// One writer per journal: a second coordinator on the same state directory is refused
    /// (the lock ends with the process, however it ends).
    func lock() throws(JournalIOError) {
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            if errno == EWOULDBLOCK {
                throw JournalIOError(description: "the journal '\(path)' is in use by another running coordinator", locked: true)
            }
            throw Self.failure("cannot lock", path)
        }
    }

    /// Writes the record to the file (the page cache); `syncIfDue` or `sync` makes it durable.
    public func append(_ record: JournalRecord, now: UInt64) throws(JournalIOError) {
        let bytes: [UInt8]
        do {
            bytes = try JournalCodec.encode(record)
        } catch {
            throw JournalIOError(description: "cannot journal a result: \(error)")
        }
        try write(bytes)
        appended += 1
        unsynced += 1
        if firstUnsyncedMs == nil { firstUnsyncedMs = now }
        if unsynced >= maxRecords { try sync() }
    }

    /// When the records appended so far must be synced (nil: nothing is waiting).
    public var deadline: UInt64? { firstUnsyncedMs.map { $0 + maxDelayMs } }

    public func syncIfDue(now: UInt64) throws(JournalIOError) {
        if let deadline, now >= deadline { try sync() }
    }

    public func sync() throws(JournalIOError) {
        guard fsync(fd) == 0 else { throw Self.failure("cannot fsync", path) }
        syncs += 1
        unsynced = 0
        firstUnsyncedMs = nil
    }

    func write(_ bytes: [UInt8]) throws(JournalIOError) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { raw in raw.baseAddress.map { Foundation.write(fd, $0 + done, raw.count - done) } ?? 0 }
            if n < 0 {
                if errno == EINTR { continue }
                throw Self.failure("cannot write", path)
            }
            done += n
        }
    }

    /// Makes a new file's directory entry durable.
    static func syncDirectory(of path: String) throws(JournalIOError) {
        let directory = (path as NSString).deletingLastPathComponent
        let fd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("cannot open the directory of", path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw failure("cannot fsync the directory of", path) }
    }

    static func failure(_ what: String, _ path: String) -> JournalIOError {
        JournalIOError(description: "\(what) the journal '\(path)': \(String(cString: strerror(errno)))")
    }
}
