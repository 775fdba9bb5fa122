import Foundation

/// Read-only bytes at a fixed address for as long as anything refers to them: a file mapped
/// into memory (its pages are read on first touch and never copied) or bytes copied in once.
/// Models are decoded from it, and their tensors' raw data stay slices of it (`ByteSlice`), so
/// a model file is not held a second time while it is turned into float tensors.
///
/// A mapped file is assumed not to change while it is mapped (Hutch's inputs are not written
/// during a job): bytes changed in place are seen as they are when touched, and a file cut
/// shorter under the mapping makes reads past its new end fault (SIGBUS), as with any mmap.
public final class ByteStorage: @unchecked Sendable {   // immutable after init
    public let buffer: UnsafeRawBufferPointer
    private let mapped: Bool

    /// A copy of `bytes` (models decoded from memory: tests, the simulator).
    public init(copying bytes: some Collection<UInt8>) {
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 64)
        _ = copy.initializeMemory(as: UInt8.self, from: bytes)
        buffer = UnsafeRawBufferPointer(copy)
        mapped = false
    }

    private init(mapping base: UnsafeMutableRawPointer, count: Int) {
        buffer = UnsafeRawBufferPointer(start: base, count: count)
        mapped = true
    }

    /// The regular file at `path` mapped read-only; nil when it cannot be (missing, unreadable,
    /// empty, or not a regular file such as a pipe): the caller then reads it as before, so a
    /// file that cannot be read fails with the caller's usual error.
    public static func mapping(_ path: String) -> ByteStorage? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }   // the mapping keeps the file's pages without the descriptor
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_size > 0 else { return nil }
        let count = Int(info.st_size)
        guard let base = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0), base != UnsafeMutableRawPointer(bitPattern: -1) else { return nil }
        return ByteStorage(mapping: base, count: count)
    }

    /// The file at `path` mapped, or, when it cannot be mapped, what `read` gives for it.
    public static func contents(of path: String, orRead read: (String) throws -> [UInt8]) throws -> ByteStorage {
        if let mapped = mapping(path) { return mapped }
        return ByteStorage(copying: try read(path))
    }

    public var count: Int { buffer.count }

    /// All of it, as a slice.
    public var all: ByteSlice { ByteSlice(self, 0..<count) }

    deinit {
        if mapped {
            munmap(UnsafeMutableRawPointer(mutating: buffer.baseAddress), buffer.count)
        } else {
            UnsafeMutableRawBufferPointer(mutating: buffer).deallocate()
        }
    }
}

extension ByteStorage {
    /// Drops the mapped pages wholly inside `range` from this process's resident memory once
    /// their bytes are used (converted to floats, hashed, written out): the mapping is private and
    /// never written, so a page touched again is read again from the file (the kernel's page
    /// cache). Resident memory for a mapped model then stays near a tensor, not the file. Copied
    /// bytes stay as they are.
    public func releasePages(_ range: Range<Int>) {
        guard mapped, let base = buffer.baseAddress else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (range.lowerBound + page - 1) / page * page   // the mapping starts on a page
        let end = range.upperBound >= count ? range.upperBound : range.upperBound / page * page
        guard start < end else { return }
        madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, MADV_DONTNEED)
    }
}

extension Digest {
    /// SHA-256 of `storage`, 4 MiB at a time, each part's pages released behind it: a mapped
    /// model is hashed without becoming resident whole.
    public static func sha256(_ storage: ByteStorage) -> String {
        var hash = SHA256Stream()
        let part = 4 << 20
        for start in stride(from: 0, to: storage.count, by: part) {
            let range = start..<min(storage.count, start + part)
            hash.update(UnsafeRawBufferPointer(rebasing: storage.buffer[range]))
            storage.releasePages(range)
        }
        return hash.finish()
    }
}
