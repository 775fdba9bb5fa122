import HutchTestSupport
import XCTest
@testable import HutchTensor

/// Convolutions inside `Kernels.withPackedWeights`: registered weights are packed once and give
/// the bits of an uncached call; unregistered ones are never cached, so a change shows.
final class PackedWeightCacheTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(Kernels.cpuHasAVX2FMA, "this CPU has no AVX2 + FMA: the direct kernels (the cache's users) never run")
    }

    let geometries: [([Int], [Int], [Int], [Int])] = [
        ([2, 4, 8, 16], [6, 4, 3, 3], [1, 1], [1, 1, 1, 1]),   // forward and stride-1 data gradient
        ([2, 4, 16, 16], [6, 4, 3, 3], [2, 2], [1, 1, 1, 1]),  // stride phases of the data gradient
    ]

    /// Forward and data gradient of 2 weight blocks, as the executor calls them.
    func run(_ g: ConvGeometry, x: [Float], w: [Float], dy: [Float]) -> (y: [Float], dx: [Float]) {
        var y = [Float](repeating: 0, count: 2 * g.outputCount), dx = [Float](repeating: 0, count: 2 * g.inputCount)
        Kernels.conv2DForward(g, blocks: 2, x: x, xBlockStride: 0, w: w, wBlockStride: g.weightCount, y: &y, accumulate: false)
        Kernels.conv2DBackwardData(g, blocks: 2, dy: dy, dyBlockStride: 0, w: w, wBlockStride: g.weightCount, dx: &dx, accumulate: false)
        return (y, dx)
    }

    func testRegisteredWeightsGiveTheBitsOfUncachedCalls() throws {
        var rng = TestRandom(seed: 61)
        for c in geometries {
            let g = try ConvGeometry(input: c.0, weight: c.1, strides: c.2, pads: c.3, dilations: [1, 1], group: 1)
            let x = rng.array(g.inputCount).map(Float.init), dy = rng.array(g.outputCount).map(Float.init)
            let w = rng.array(2 * g.weightCount).map(Float.init)
            let plain = run(g, x: x, w: w, dy: dy)
            let cache = PackedWeightCache()
            w.withUnsafeBufferPointer { wp in
                cache.register(wp.baseAddress!, count: wp.count)
                for _ in 0..<2 {   // the second time from the cache
                    let cached = Kernels.withPackedWeights(cache) {
                        var y = [Float](repeating: 0, count: 2 * g.outputCount), dx = [Float](repeating: 0, count: 2 * g.inputCount)
                        Kernels.conv2DForward(g, blocks: 2, x: x, xBlockStride: 0, w: wp.baseAddress!, wBlockStride: g.weightCount,
                                              y: &y, accumulate: false)
                        Kernels.conv2DBackwardData(g, blocks: 2, dy: dy, dyBlockStride: 0, w: wp.baseAddress!,
                                                   wBlockStride: g.weightCount, dx: &dx, accumulate: false)
                        return (y, dx)
                    }
                    XCTAssertEqual(cached.0.map(\.bitPattern), plain.y.map(\.bitPattern), "\(c)")
                    XCTAssertEqual(cached.1.map(\.bitPattern), plain.dx.map(\.bitPattern), "\(c)")
                }
                XCTAssertGreaterThan(cache.entryCount, 0, "\(c): nothing was cached")
            }
        }
    }

    func testUnregisteredWeightsAreNotCached() throws {
        var rng = TestRandom(seed: 62)
        let c = geometries[0]
        let g = try ConvGeometry(input: c.0, weight: c.1, strides: c.2, pads: c.3, dilations: [1, 1], group: 1)
        let x = rng.array(g.inputCount).map(Float.init), dy = rng.array(g.outputCount).map(Float.init)
        var w = rng.array(2 * g.weightCount).map(Float.init)
        let cache = PackedWeightCache()
        _ = Kernels.withPackedWeights(cache) { run(g, x: x, w: w, dy: dy) }
        for i in w.indices { w[i] *= -0.5 }   // same buffer size, new values
        let after = Kernels.withPackedWeights(cache) { run(g, x: x, w: w, dy: dy) }
        let expected = run(g, x: x, w: w, dy: dy)
        XCTAssertEqual(after.y.map(\.bitPattern), expected.y.map(\.bitPattern))
        XCTAssertEqual(after.dx.map(\.bitPattern), expected.dx.map(\.bitPattern))
        XCTAssertEqual(cache.entryCount, 0)
    }
}
