import HutchTestSupport
import XCTest
@testable import HutchTensor

/// im2col's Float products on `FixedOrderGemm` (Kernels+Im2colFixedOrder): against the naive loop,
/// the data gradient as its adjoint, and the bits of an example: the same alone, in a batch of any
/// size and in any chunk, on the AVX2 and AVX-512 builds.
final class Im2colFixedOrderTests: XCTestCase {
    /// (input, weight, strides, pads, dilations, group): output channels not a multiple of 4, output
    /// rows narrower than a vector (2x2: 4 columns), strides, dilations, groups, and a 32x32 plane
    /// whose batch of 6 splits into chunks of 4 and 2 examples (`Kernels.chunkSize`).
    let cases: [([Int], [Int], [Int], [Int], [Int], Int)] = [
        ([5, 24, 7, 7], [10, 24, 3, 3], [1, 1], [1, 1, 1, 1], [1, 1], 1),
        ([3, 8, 4, 4], [6, 8, 3, 3], [2, 2], [1, 1, 1, 1], [1, 1], 1),
        ([4, 12, 9, 11], [8, 6, 3, 3], [1, 2], [0, 1, 2, 1], [2, 1], 2),
        ([2, 16, 7, 7], [9, 16, 1, 1], [1, 1], [0, 0, 0, 0], [1, 1], 1),
        ([6, 3, 32, 32], [8, 3, 3, 3], [1, 1], [1, 1, 1, 1], [1, 1], 1),
    ]

    override func setUpWithError() throws {
        try XCTSkipUnless(Kernels.cpuHasAVX2FMA, "this CPU has no AVX2 + FMA: im2col's products stay on OpenBLAS")
    }

    func geometry(_ c: ([Int], [Int], [Int], [Int], [Int], Int), batch: Int? = nil) throws -> ConvGeometry {
        var input = c.0
        if let batch { input[0] = batch }
        return try ConvGeometry(input: input, weight: c.1, strides: c.2, pads: c.3, dilations: c.4, group: c.5)
    }

    func forward(_ g: ConvGeometry, _ x: [Float], _ w: [Float], avx512: Bool = Kernels.directAVX512Enabled) -> [Float] {
        var y = [Float](repeating: 0, count: g.outputCount)
        Kernels.im2colForwardFixedOrder(g, blocks: 1, x: x, xBlockStride: 0, w: w, wBlockStride: 0, y: &y, accumulate: false,
                                        avx512: avx512)
        return y
    }

    func dataGradient(_ g: ConvGeometry, _ dy: [Float], _ w: [Float], avx512: Bool = Kernels.directAVX512Enabled) -> [Float] {
        var dx = [Float](repeating: 0, count: g.inputCount)
        Kernels.im2colBackwardDataFixedOrder(g, blocks: 1, dy: dy, dyBlockStride: 0, w: w, wBlockStride: 0, dx: &dx, avx512: avx512)
        return dx
    }

    func testForwardMatchesNaiveLoop() throws {
        var rng = TestRandom(seed: 51)
        for c in cases {
            let g = try geometry(c)
            let x = rng.array(g.inputCount), w = rng.array(g.weightCount)
            XCTAssertLessThan(maxRelativeError(forward(g, x.map(Float.init), w.map(Float.init)).map(Double.init), naiveConv(g, x, w)),
                              1e-6, "\(c)")
        }
    }

    /// <dx, e_i> = <dy, conv(e_i)> for every input element i.
    func testDataGradientIsTheAdjoint() throws {
        var rng = TestRandom(seed: 52)
        for c in cases.prefix(4) {
            let g = try geometry(c)
            let w = rng.array(g.weightCount), dy = rng.array(g.outputCount)
            let dx = dataGradient(g, dy.map(Float.init), w.map(Float.init))
            let scale = dx.map { abs(Double($0)) }.max() ?? 1
            for i in stride(from: 0, to: g.inputCount, by: 5) {
                var e = [Double](repeating: 0, count: g.inputCount); e[i] = 1
                XCTAssertEqual(Double(dx[i]), dot(naiveConv(g, e, w), dy), accuracy: 1e-6 * scale, "\(c), input \(i)")
            }
        }
    }

    /// Examples first..<first+count run as a batch of their own give the bits they have in the
    /// whole batch: the products' column count (the chunk's positions) does not change a sum.
    /// Through the im2col entry points, so that HUTCH_IM2COL_FIXED=0 shows what OpenBLAS does.
    func testAnExamplesBitsDoNotDependOnWhichExamplesShareItsCall() throws {
        func forward(_ g: ConvGeometry, _ x: [Float], _ w: [Float]) -> [Float] {
            var y = [Float](repeating: 0, count: g.outputCount)
            Kernels.conv2DForwardIm2col(g, blocks: 1, x: x, xBlockStride: 0, w: w, wBlockStride: 0, y: &y, accumulate: false)
            return y
        }
        func dataGradient(_ g: ConvGeometry, _ dy: [Float], _ w: [Float]) -> [Float] {
            var dx = [Float](repeating: 0, count: g.inputCount)
            Kernels.conv2DBackwardDataIm2col(g, blocks: 1, dy: dy, dyBlockStride: 0, w: w, wBlockStride: 0, dx: &dx, accumulate: false)
            return dx
        }
        var rng = TestRandom(seed: 53)
        for c in cases {
            let g = try geometry(c), batch = c.0[0]
            let x = rng.array(g.inputCount).map(Float.init), w = rng.array(g.weightCount).map(Float.init)
            let dy = rng.array(g.outputCount).map(Float.init)
            let (y, dx) = (forward(g, x, w), dataGradient(g, dy, w))
            let (inPer, outPer) = (g.inputCount / batch, g.outputCount / batch)
            for (first, count) in [(0, 1), (batch - 1, 1), (1, batch - 1)] where count > 0 {
                let part = try geometry(c, batch: count)
                let xs = Array(x[(first * inPer)..<((first + count) * inPer)]), dys = Array(dy[(first * outPer)..<((first + count) * outPer)])
                XCTAssertEqual(forward(part, xs, w).map(\.bitPattern),
                               y[(first * outPer)..<((first + count) * outPer)].map(\.bitPattern), "forward \(c), \(first)+\(count)")
                XCTAssertEqual(dataGradient(part, dys, w).map(\.bitPattern),
                               dx[(first * inPer)..<((first + count) * inPer)].map(\.bitPattern), "data \(c), \(first)+\(count)")
            }
        }
    }

    /// Blocks (probe directions) with their own weights, sharing the input, give single-block
    /// calls' bits.
    func testBlocksGiveSingleCallBits() throws {
        var rng = TestRandom(seed: 54)
        let g = try geometry(cases[2])
        let x = rng.array(g.inputCount).map(Float.init), w = rng.array(2 * g.weightCount).map(Float.init)
        let single = (0..<2).map { b in forward(g, x, Array(w[(b * g.weightCount)..<((b + 1) * g.weightCount)])) }
        var y = [Float](repeating: 0, count: 2 * g.outputCount)
        Kernels.im2colForwardFixedOrder(g, blocks: 2, x: x, xBlockStride: 0, w: w, wBlockStride: g.weightCount, y: &y, accumulate: false)
        XCTAssertEqual(y.map(\.bitPattern), (single[0] + single[1]).map(\.bitPattern))
    }

    /// One thread, or three sharing the chunks or (one chunk: the 7x7 case) the rows of every product.
    func testBitsDoNotDependOnThreads() throws {
        var rng = TestRandom(seed: 56)
        for c in [cases[0], cases[4]] {
            let g = try geometry(c)
            let x = rng.array(g.inputCount).map(Float.init), w = rng.array(g.weightCount).map(Float.init)
            let dy = rng.array(g.outputCount).map(Float.init)
            let one = Kernels.withThreads(1) { (forward(g, x, w), dataGradient(g, dy, w)) }
            let three = Kernels.withThreads(3) { (forward(g, x, w), dataGradient(g, dy, w)) }
            XCTAssertEqual(one.0.map(\.bitPattern), three.0.map(\.bitPattern), "forward \(c)")
            XCTAssertEqual(one.1.map(\.bitPattern), three.1.map(\.bitPattern), "data \(c)")
        }
    }

    func testAVX2AndAVX512GiveTheSameBits() throws {
        try XCTSkipUnless(Kernels.cpuHasAVX512, "this CPU has no AVX-512")
        var rng = TestRandom(seed: 55)
        for c in cases {
            let g = try geometry(c)
            let x = rng.array(g.inputCount).map(Float.init), w = rng.array(g.weightCount).map(Float.init)
            let dy = rng.array(g.outputCount).map(Float.init)
            XCTAssertEqual(forward(g, x, w, avx512: true).map(\.bitPattern), forward(g, x, w, avx512: false).map(\.bitPattern), "\(c)")
            XCTAssertEqual(dataGradient(g, dy, w, avx512: true).map(\.bitPattern), dataGradient(g, dy, w, avx512: false).map(\.bitPattern),
                           "\(c)")
        }
    }
}
