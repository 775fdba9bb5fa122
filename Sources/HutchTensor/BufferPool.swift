import Foundation

/// Reuses large buffers between passes: the same activation sizes recur every forward and
/// backward pass, and fresh multi-megabyte allocations cost a page fault per 4 KiB.
///
/// Bound: live + cached <= 1.5 x the largest live total so far, so pooled memory follows the
/// live high-water mark instead of adding a fixed cache (4 GiB before) to it; when a fresh
/// allocation or a returned buffer would exceed that, the buffers cached longest ago go first
/// (sizes the passes no longer ask for). The slack lets two threads' chunks find their sizes
/// cached: with none (live + cached <= peak) ResNet-50's probes allocated 16 GB of fresh buffers
/// per run (Benchmarks/README.md, "Probe memory").
public final class BufferPool: @unchecked Sendable {
    public static let shared = BufferPool()
    private let lock = NSLock()
    /// Cached buffers by exact size, each with the tick at which it was given back.
    private var free: [Int: [(pointer: UnsafeMutableRawPointer, tick: Int)]] = [:]
    private var tick = 0
    private var cachedBytes = 0
    private var liveBytes = 0
    private var peakLiveBytes = 0
    private var freshAllocations = 0
    private var freshBytes = 0
    private let minimumBytes = 1 << 16

    /// Pooled sizes only (>= 64 KiB); smaller buffers go straight to the allocator.
    public struct Statistics: Sendable, Equatable {
        /// Taken and not yet given back.
        public var liveBytes: Int
        /// The largest `liveBytes` since the last `resetPeak`.
        public var peakLiveBytes: Int
        /// Held for reuse.
        public var cachedBytes: Int
        /// Takes the cache could not serve (each a fresh allocation whose pages fault on first touch).
        public var freshAllocations: Int
        public var freshBytes: Int
    }

    public var statistics: Statistics {
        lock.lock(); defer { lock.unlock() }
        return Statistics(liveBytes: liveBytes, peakLiveBytes: peakLiveBytes, cachedBytes: cachedBytes,
                          freshAllocations: freshAllocations, freshBytes: freshBytes)
    }

    /// Starts a new peak from what is live now (measurements of one pass); the cache shrinks to
    /// fit the new bound as buffers come and go.
    public func resetPeak() {
        lock.lock(); peakLiveBytes = liveBytes; lock.unlock()
    }

    /// Scratch memory for `count` scalars, returned with `release`.
    public func scratch<Scalar>(_ count: Int, of _: Scalar.Type) -> UnsafeMutablePointer<Scalar> {
        take(max(count, 1) * MemoryLayout<Scalar>.stride).bindMemory(to: Scalar.self, capacity: max(count, 1))
    }

    public func release<Scalar>(_ pointer: UnsafeMutablePointer<Scalar>, _ count: Int) {
        give(UnsafeMutableRawPointer(pointer), max(count, 1) * MemoryLayout<Scalar>.stride)
    }

    public func take(_ bytes: Int) -> UnsafeMutableRawPointer {
        guard bytes >= minimumBytes else { return .allocate(byteCount: bytes, alignment: 64) }
        lock.lock()
        liveBytes += bytes
        peakLiveBytes = max(peakLiveBytes, liveBytes)
        if let reused = free[bytes]?.popLast() {
            cachedBytes -= bytes
            lock.unlock()
            return reused.pointer
        }
        freshAllocations += 1
        freshBytes += bytes
        let evicted = evictOverBound()
        lock.unlock()
        for (pointer, _) in evicted { pointer.deallocate() }
        return .allocate(byteCount: bytes, alignment: 64)
    }

    public func give(_ pointer: UnsafeMutableRawPointer, _ bytes: Int) {
        guard bytes >= minimumBytes else { return pointer.deallocate() }
        lock.lock()
        liveBytes -= bytes
        tick += 1
        free[bytes, default: []].append((pointer, tick))
        cachedBytes += bytes
        let evicted = evictOverBound()
        lock.unlock()
        for (pointer, _) in evicted { pointer.deallocate() }
    }

    /// What live + cached may reach.
    private var boundBytes: Int { peakLiveBytes + peakLiveBytes / 2 }

    /// Removes the oldest cached buffers until live + cached <= the bound; the caller frees them
    /// outside the lock. Linear in the number of distinct sizes per eviction, which is small.
    private func evictOverBound() -> [(pointer: UnsafeMutableRawPointer, bytes: Int)] {
        var evicted: [(pointer: UnsafeMutableRawPointer, bytes: Int)] = []
        while liveBytes + cachedBytes > boundBytes, cachedBytes > 0 {
            var oldest: (size: Int, tick: Int)?
            for (size, list) in free {
                if let first = list.first, oldest == nil || first.tick < oldest!.tick { oldest = (size, first.tick) }
            }
            guard let size = oldest?.size else { break }
            let entry = free[size]!.removeFirst()
            if free[size]!.isEmpty { free[size] = nil }
            cachedBytes -= size
            evicted.append((entry.pointer, size))
        }
        return evicted
    }
}
