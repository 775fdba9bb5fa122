import XCTest
import HutchTestSupport
@testable import HutchTensor

/// The buffer pool's size classes, reuse within and one class across, its cap on live + cached
/// bytes and the order in which it frees cached buffers.
final class BufferPoolTests: XCTestCase {
    func testClassesRoundUpByAtMostOneEighth() {
        XCTAssertEqual(BufferPool.sizeClass(1 << 16), 1 << 16)
        XCTAssertEqual(BufferPool.sizeClass((1 << 16) + 1), (1 << 16) + (1 << 13))
        XCTAssertEqual(BufferPool.sizeClass(3 << 16), 3 << 16)
        XCTAssertEqual(BufferPool.sizeClass((1 << 17) - 1), 1 << 17)
        var previous = 0
        for bytes in stride(from: 1 << 16, through: 1 << 22, by: 4093) {
            let c = BufferPool.sizeClass(bytes)
            XCTAssertGreaterThanOrEqual(c, bytes)
            XCTAssertLessThanOrEqual(c - bytes, bytes / 8, "at most 12.5 % more")
            XCTAssertEqual(BufferPool.sizeClass(c), c, "a class is its own class")
            XCTAssertGreaterThanOrEqual(c, previous)
            previous = c
        }
    }

    func testAFreedBufferServesEveryRequestOfItsClassAndOfTheClassBelow() {
        let pool = BufferPool(capEighths: 12)
        let first = pool.take((1 << 16) + 1)             // class 72 KiB
        pool.give(first, (1 << 16) + 1)
        let second = pool.take(70_000)                   // the same class: the same buffer
        XCTAssertEqual(second, first)
        var s = pool.statistics
        XCTAssertEqual(s.freshAllocations, 1)
        XCTAssertEqual(s.liveBytes, 70_000)
        XCTAssertEqual(s.liveClassBytes, 72 << 10)
        XCTAssertEqual(s.freshBytes, 72 << 10)
        pool.give(second, 70_000)

        // only a 72 KiB buffer cached: a 64 KiB request (the class below) takes it, and it goes
        // back to its own class, where a 72 KiB request finds it
        let below = pool.take(1 << 16)
        XCTAssertEqual(below, first)
        s = pool.statistics
        XCTAssertEqual(s.freshAllocations, 1)
        XCTAssertEqual(s.liveBytes, 1 << 16)
        XCTAssertEqual(s.liveClassBytes, 72 << 10)
        XCTAssertEqual(s.cachedBytes, 0)
        pool.give(below, 1 << 16)
        XCTAssertEqual(pool.statistics.cachedBytes, 72 << 10)
        let again = pool.take(72 << 10)
        XCTAssertEqual(again, first)
        pool.give(again, 72 << 10)

        // two classes up wastes too much: with only an 80 KiB buffer cached, a 64 KiB request
        // allocates afresh
        let held = pool.take(72 << 10)                   // the cached 72 KiB buffer
        let big = pool.take(80 << 10)
        XCTAssertEqual(held, first)
        XCTAssertEqual(pool.statistics.freshAllocations, 2)
        pool.give(big, 80 << 10)
        let fresh = pool.take(1 << 16)
        s = pool.statistics
        XCTAssertEqual(s.freshAllocations, 3, "an 80 KiB buffer does not serve 64 KiB")
        XCTAssertEqual(s.cachedBytes, 80 << 10)
        pool.give(held, 72 << 10); pool.give(fresh, 1 << 16)
    }

    /// Live and cached class bytes together never exceed the cap factor x the live high-water mark,
    /// for every cap from 1.0x to 1.5x and the shared pool's default.
    func testLivePlusCachedStaysUnderTheCap() {
        for eighths in [8, 9, 10, 12, nil] {
            let pool = eighths.map { BufferPool(capEighths: $0) } ?? BufferPool()
            let cap = pool.capEighths
            var rng = SplitMix64(seed: UInt64(cap))
            var held: [(UnsafeMutableRawPointer, Int)] = []
            for _ in 0..<400 {
                if held.isEmpty || rng.next() % 3 != 0 {
                    let bytes = (1 << 16) + Int(rng.next() % UInt64(3 << 20))
                    let p = pool.take(bytes)
                    p.storeBytes(of: 1, as: UInt8.self)
                    (p + bytes - 1).storeBytes(of: 1, as: UInt8.self)   // the whole request is writable
                    held.append((p, bytes))
                } else {
                    let (p, bytes) = held.remove(at: Int(rng.next() % UInt64(held.count)))
                    pool.give(p, bytes)
                }
                if held.count > 12 { let (p, bytes) = held.removeFirst(); pool.give(p, bytes) }
                let s = pool.statistics
                XCTAssertLessThanOrEqual(s.liveClassBytes + s.cachedBytes, s.peakLiveClassBytes * cap / 8, "cap \(cap) eighths")
                XCTAssertGreaterThanOrEqual(s.liveClassBytes, s.liveBytes)
            }
            for (p, bytes) in held { pool.give(p, bytes) }
            XCTAssertEqual(pool.statistics.liveBytes, 0)
            XCTAssertEqual(pool.statistics.liveClassBytes, 0)
        }
    }

    /// Under `withLimit` live + cached stay under the limit whatever the cap factor allows (cached
    /// buffers go first); a limit below what is live caches nothing; the cap returns afterwards.
    func testALimitCapsLivePlusCachedAndEndsWithItsScope() {
        let pool = BufferPool(capEighths: 12)
        let mib = 1 << 20
        let a = pool.take(4 * mib), b = pool.take(4 * mib)
        pool.give(a, 4 * mib)
        XCTAssertEqual(pool.statistics.cachedBytes, 4 * mib, "1.5x of 8 MiB keeps the freed buffer")
        pool.withLimit(6 * mib) {
            XCTAssertEqual(pool.statistics.cachedBytes, 0, "entering the limit evicts down to it")
            let c = pool.take(mib)
            pool.give(c, mib)
            XCTAssertEqual(pool.statistics.cachedBytes, mib, "4 MiB live + 1 MiB cached fit 6 MiB")
            let d = pool.take(2 * mib), e = pool.take(mib)
            XCTAssertLessThanOrEqual(pool.statistics.liveClassBytes + pool.statistics.cachedBytes, 7 * mib)
            pool.give(d, 2 * mib)
            let s = pool.statistics
            XCTAssertLessThanOrEqual(s.liveClassBytes + s.cachedBytes, 6 * mib, "cached buffers give way to the limit")
            pool.withLimit(mib) {
                XCTAssertEqual(pool.statistics.cachedBytes, 0, "a limit below the live bytes caches nothing")
            }
            pool.give(e, mib)
            XCTAssertLessThanOrEqual(pool.statistics.liveClassBytes + pool.statistics.cachedBytes, 6 * mib, "the outer limit again")
        }
        let f = pool.take(4 * mib)
        pool.give(f, 4 * mib)
        XCTAssertEqual(pool.statistics.cachedBytes, 5 * mib, "after the scope the cap factor alone: 4 + 5 MiB, over the old limit")
        pool.give(b, 4 * mib)
    }

    /// A miss over the bound takes the first pages of the smallest larger cached buffer instead of
    /// mapping fresh ones; under the bound it maps fresh ones and keeps the cached buffer.
    func testAMissOverTheBoundLendsALargerCachedBuffersPages() {
        for (eighths, lends) in [(8, true), (12, false)] {
            let pool = BufferPool(capEighths: eighths)
            let large = pool.take(1 << 18)
            pool.give(large, 1 << 18)
            // 128 KiB: neither its class nor the one above cached; 128 + 256 KiB > 1.0 x 256 KiB
            let small = pool.take(1 << 17)
            (small + (1 << 17) - 1).storeBytes(of: 7, as: UInt8.self)
            let s = pool.statistics
            XCTAssertEqual(s.freshAllocations, 2)
            XCTAssertEqual(s.liveClassBytes, 1 << 17)
            if lends {
                XCTAssertEqual(small, large, "the cached buffer's first pages")
                XCTAssertEqual(s.freshBytes, 1 << 18, "no pages mapped for it")
                XCTAssertEqual(s.cachedBytes, 0)
            } else {
                XCTAssertNotEqual(small, large)
                XCTAssertEqual(s.freshBytes, (1 << 18) + (1 << 17))
                XCTAssertEqual(s.cachedBytes, 1 << 18)
            }
            pool.give(small, 1 << 17)
            XCTAssertEqual(pool.take(1 << 17), small, "back in its own class")
            XCTAssertEqual(pool.statistics.freshAllocations, 2)
            pool.give(small, 1 << 17)
        }
    }

    /// The buffers given back longest ago are freed first.
    func testEvictionFreesTheOldestCachedBuffersFirst() {
        let pool = BufferPool(capEighths: 12)
        let sizes = [1 << 16, 1 << 17, 1 << 18]          // 448 KiB live at the peak
        let buffers = sizes.map { pool.take($0) }
        for (p, s) in zip(buffers, sizes) { pool.give(p, s) }
        // 320 KiB afresh: 320 + 448 > 1.5 x 448 = 672 KiB, so 64 KiB then 128 KiB go (704 > 672)
        let big = pool.take(320 << 10)
        var s = pool.statistics
        XCTAssertEqual(s.freshAllocations, 4)
        XCTAssertEqual(s.cachedBytes, 1 << 18, "the newest (256 KiB) stays")
        XCTAssertEqual(pool.take(1 << 18), buffers[2])
        XCTAssertEqual(pool.statistics.freshAllocations, 4)
        let middle = pool.take(1 << 17)
        s = pool.statistics
        XCTAssertEqual(s.freshAllocations, 5, "the 128 KiB buffer was freed")
        pool.give(big, 320 << 10); pool.give(buffers[2], 1 << 18); pool.give(middle, 1 << 17)
    }

    /// Live and cached bytes together never exceed 1.5 x the live high-water mark (here sizes that
    /// are their own classes, so class and requested bytes agree).
    func testPoolCacheStaysWithinThePeakLiveBytes() {
        let pool = BufferPool(capEighths: 12)
        let sizes = [1 << 16, 3 << 16, 5 << 16, 1 << 20]
        var held: [(UnsafeMutableRawPointer, Int)] = []
        for s in sizes { held.append((pool.take(s), s)) }
        let peak = sizes.reduce(0, +)
        XCTAssertEqual(pool.statistics.peakLiveBytes, peak)
        XCTAssertEqual(pool.statistics.peakLiveClassBytes, peak)
        for (p, s) in held { pool.give(p, s) }
        XCTAssertEqual(pool.statistics.cachedBytes, peak)
        XCTAssertEqual(pool.statistics.liveBytes, 0)
        // a size not cached: fresh (a new peak, 2 MiB), and the oldest cached buffers go so that
        // live + cached <= 1.5 x peak: 2 MiB live, at most 1 MiB cached
        let fresh = pool.take(2 << 20)
        var s = pool.statistics
        XCTAssertEqual(s.freshAllocations, sizes.count + 1)
        XCTAssertEqual(s.peakLiveBytes, 2 << 20)
        XCTAssertLessThanOrEqual(s.cachedBytes, 1 << 20)
        XCTAssertLessThan(s.cachedBytes, peak, "the oldest buffers were freed")
        pool.give(fresh, 2 << 20)
        // a cached size is served without a fresh allocation
        let again = pool.take(2 << 20)
        s = pool.statistics
        XCTAssertEqual(s.freshAllocations, sizes.count + 1)
        XCTAssertLessThanOrEqual(s.liveBytes + s.cachedBytes, s.peakLiveBytes * 3 / 2)
        pool.give(again, 2 << 20)
    }
}
