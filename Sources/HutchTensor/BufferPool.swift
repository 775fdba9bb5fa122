import Foundation

/// Reuses large buffers between passes: the same activation sizes recur every forward and
/// backward pass, and fresh multi-megabyte allocations cost a page fault per 4 KiB.
///
/// Size classes: a request is rounded up to one of 8 steps per power of two (at most 12.5 % more),
/// so a freed buffer serves every request of its class, and, when its class has none cached, a
/// buffer of the next class up serves it (best fit of the two). Exact sizes made the two threads'
/// chunks miss each other's near-equal sizes and allocate afresh.
///
/// Bound: live + cached <= `capEighths` / 8 x the largest live total so far (class bytes), so
/// pooled memory follows the live high-water mark instead of adding a fixed cache (4 GiB before)
/// to it; when a fresh allocation or a returned buffer would exceed that, the buffers cached
/// longest ago go first (sizes the passes no longer ask for). 1.25x: at 1.0x the two threads'
/// chunks evict the sizes the other is about to ask for again, at 1.125x ResNet-18's probes spend
/// 4 % more CPU mapping and unmapping (Benchmarks/README.md, "Probe memory"). Buffers carry no values between uses: whoever needs zeroes clears them
/// (`Storage(zeroed:)`).
public final class BufferPool: @unchecked Sendable {
    public static let shared = BufferPool()
    private let lock = NSLock()
    /// Cached buffers by size class, each with the tick at which it was given back.
    private var free: [Int: [(pointer: UnsafeMutableRawPointer, tick: Int)]] = [:]
    /// The class of each live pooled buffer (it may be one class above its request's).
    private var liveClass: [UnsafeMutableRawPointer: Int] = [:]
    private var tick = 0
    private var counters = Statistics(liveBytes: 0, peakLiveBytes: 0, liveClassBytes: 0, peakLiveClassBytes: 0,
                                      cachedBytes: 0, freshAllocations: 0, freshBytes: 0)
    private let minimumBytes = 1 << 16
    /// Live + cached may reach this many eighths of the peak live class bytes.
    let capEighths: Int
    /// A hard cap on live + cached class bytes while `withLimit` runs (`--memory`): cached
    /// buffers go first when it is passed; live ones are the caller's plan to keep under it.
    private var limitBytes = Int.max

    /// `capEighths` / 8 is the cap factor (8 ... 12: 1.0x ... 1.5x the live high-water mark).
    public init(capEighths: Int = 10) {
        self.capEighths = capEighths
    }

    /// Pooled sizes only (>= 64 KiB); smaller buffers go straight to the allocator.
    public struct Statistics: Sendable, Equatable {
        /// Requested bytes taken and not yet given back.
        public var liveBytes: Int
        /// The largest `liveBytes` since the last `resetPeak`.
        public var peakLiveBytes: Int
        /// What the live buffers occupy (their size classes, >= `liveBytes`).
        public var liveClassBytes: Int
        /// The largest `liveClassBytes` since the last `resetPeak`: the cap's base.
        public var peakLiveClassBytes: Int
        /// Held for reuse (class bytes).
        public var cachedBytes: Int
        /// Takes that neither their class nor the one above could serve from the cache.
        public var freshAllocations: Int
        /// The pages mapped for them (each faults on first touch); a larger cached buffer lent over
        /// the bound adds none.
        public var freshBytes: Int
    }

    public var statistics: Statistics {
        lock.lock(); defer { lock.unlock() }
        return counters
    }

    /// Starts a new peak from what is live now (measurements of one pass); the cache shrinks to
    /// fit the new bound as buffers come and go.
    public func resetPeak() {
        lock.lock()
        counters.peakLiveBytes = counters.liveBytes
        counters.peakLiveClassBytes = counters.liveClassBytes
        lock.unlock()
    }

    /// Runs `body` with live + cached held to at most `bytes` (class bytes; nil: no cap beyond the
    /// cap factor), then restores the previous cap and evicts down to it. A cap below what is
    /// live caches nothing.
    public func withLimit<T, E: Error>(_ bytes: Int?, _ body: () throws(E) -> T) throws(E) -> T {
        lock.lock()
        let saved = limitBytes
        limitBytes = min(saved, bytes ?? .max)
        let evicted = evictOverBound()
        lock.unlock()
        for (pointer, size) in evicted { Self.unmap(pointer, size) }
        defer { lock.lock(); limitBytes = saved; lock.unlock() }
        return try body()
    }

    /// `bytes` rounded up to its class: 8 steps per power of two.
    static func sizeClass(_ bytes: Int) -> Int {
        let step = max(1, (1 << (Int.bitWidth - 1 - bytes.leadingZeroBitCount)) >> 3)
        return (bytes + step - 1) / step * step
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
        let own = Self.sizeClass(bytes)
        lock.lock()
        counters.liveBytes += bytes
        counters.peakLiveBytes = max(counters.peakLiveBytes, counters.liveBytes)
        for size in [own, Self.sizeClass(own + 1)] {
            guard let reused = free[size]?.popLast() else { continue }
            if free[size]!.isEmpty { free[size] = nil }
            counters.cachedBytes -= size
            addLive(reused.pointer, size)
            lock.unlock()
            return reused.pointer
        }
        counters.freshAllocations += 1
        addLive(nil, own)
        // Over the bound, the smallest cached buffer of a larger class lends its first pages (its
        // tail unmapped): they are resident already, where fresh ones would fault in again.
        var recycled: UnsafeMutableRawPointer?, recycledSize = 0
        if counters.liveClassBytes + counters.cachedBytes > boundBytes, let size = free.keys.filter({ $0 > own }).min() {
            recycled = free[size]!.removeLast().pointer
            if free[size]!.isEmpty { free[size] = nil }
            counters.cachedBytes -= size
            recycledSize = size
        } else {
            counters.freshBytes += own
        }
        let evicted = evictOverBound()
        lock.unlock()
        // the evicted pages go back before the fresh ones are asked for
        for (pointer, size) in evicted { Self.unmap(pointer, size) }
        let pointer: UnsafeMutableRawPointer
        if let recycled {
            Self.unmap(recycled + own, recycledSize - own)
            pointer = recycled
        } else {
            pointer = Self.map(own)
        }
        lock.lock(); liveClass[pointer] = own; lock.unlock()
        return pointer
    }

    public func give(_ pointer: UnsafeMutableRawPointer, _ bytes: Int) {
        guard bytes >= minimumBytes else { return pointer.deallocate() }
        lock.lock()
        guard let size = liveClass.removeValue(forKey: pointer) else {
            preconditionFailure("BufferPool.give: a buffer of \(bytes) bytes this pool did not hand out")
        }
        counters.liveBytes -= bytes
        counters.liveClassBytes -= size
        tick += 1
        free[size, default: []].append((pointer, tick))
        counters.cachedBytes += size
        let evicted = evictOverBound()
        lock.unlock()
        for (pointer, size) in evicted { Self.unmap(pointer, size) }
    }

    /// Pooled buffers are whole pages of their own: unmapped, they leave the process at once,
    /// where malloc's arenas kept freed multi-megabyte blocks resident (peak RSS 1.1 GB above the
    /// pool's bytes on ResNet-50). Out of memory stops the process, as the allocator does.
    private static func map(_ bytes: Int) -> UnsafeMutableRawPointer {
        let p = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let p, p != MAP_FAILED else { fatalError("BufferPool: out of memory mapping \(bytes) bytes") }
        return p
    }

    private static func unmap(_ pointer: UnsafeMutableRawPointer, _ bytes: Int) {
        munmap(pointer, bytes)
    }

    private func addLive(_ pointer: UnsafeMutableRawPointer?, _ size: Int) {
        if let pointer { liveClass[pointer] = size }
        counters.liveClassBytes += size
        counters.peakLiveClassBytes = max(counters.peakLiveClassBytes, counters.liveClassBytes)
    }

    /// What live + cached may reach.
    private var boundBytes: Int { min(counters.peakLiveClassBytes * capEighths / 8, limitBytes) }

    /// Removes the oldest cached buffers until live + cached <= the bound; the caller frees them
    /// outside the lock. Linear in the number of cached classes per eviction, which is small.
    private func evictOverBound() -> [(pointer: UnsafeMutableRawPointer, size: Int)] {
        var evicted: [(pointer: UnsafeMutableRawPointer, size: Int)] = []
        while counters.liveClassBytes + counters.cachedBytes > boundBytes, counters.cachedBytes > 0 {
            var oldest: (size: Int, tick: Int)?
            for (size, list) in free {
                if let first = list.first, oldest == nil || first.tick < oldest!.tick { oldest = (size, first.tick) }
            }
            guard let size = oldest?.size else { break }
            evicted.append((free[size]!.removeFirst().pointer, size))
            if free[size]!.isEmpty { free[size] = nil }
            counters.cachedBytes -= size
        }
        return evicted
    }
}
