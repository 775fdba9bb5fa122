import Foundation

/// Reuses large buffers between passes: the same activation sizes recur every forward and
/// backward pass, and fresh multi-megabyte allocations cost a page fault per 4 KiB.
public final class BufferPool: @unchecked Sendable {
    public static let shared = BufferPool()
    private let lock = NSLock()
    private var free: [Int: [UnsafeMutableRawPointer]] = [:]
    private var cachedBytes = 0
    private let minimumBytes = 1 << 16
    private let capacityBytes = 4 << 30

    /// Scratch memory for `count` scalars, returned with `release`.
    public func scratch<Scalar>(_ count: Int, of _: Scalar.Type) -> UnsafeMutablePointer<Scalar> {
        take(max(count, 1) * MemoryLayout<Scalar>.stride).bindMemory(to: Scalar.self, capacity: max(count, 1))
    }

    public func release<Scalar>(_ pointer: UnsafeMutablePointer<Scalar>, _ count: Int) {
        give(UnsafeMutableRawPointer(pointer), max(count, 1) * MemoryLayout<Scalar>.stride)
    }

    public func take(_ bytes: Int) -> UnsafeMutableRawPointer {
        if bytes >= minimumBytes {
            lock.lock()
            let reused = free[bytes]?.popLast()
            if reused != nil { cachedBytes -= bytes }
            lock.unlock()
            if let reused { return reused }
        }
        return .allocate(byteCount: bytes, alignment: 64)
    }

    public func give(_ pointer: UnsafeMutableRawPointer, _ bytes: Int) {
        if bytes >= minimumBytes {
            lock.lock()
            if cachedBytes + bytes <= capacityBytes {
                free[bytes, default: []].append(pointer)
                cachedBytes += bytes
                lock.unlock()
                return
            }
            lock.unlock()
        }
        pointer.deallocate()
    }
}

