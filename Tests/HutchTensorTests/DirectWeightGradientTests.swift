import HutchTestSupport
import XCTest
@testable import HutchTensor

/// The direct weight gradient (Kernels+DirectWeightGradient): the adjoint of the forward
/// convolution in w, the values of im2col + GEMM, and bits that depend neither on the worker
/// count, the blocks sharing a call, nor on AVX2 vs AVX-512.
final class DirectWeightGradientTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(Kernels.cpuHasAVX2FMA, "this CPU has no AVX2 + FMA: the direct kernels are never used")
    }

    /// (input, weight, stride, pad): widths 1 to 37, channel counts off 16 and steps off 12, the
    /// 7x7 stride-2 stem, 1x1 stride 2, asymmetric strides.
    let shapes: [([Int], [Int], [Int], Int)] = [
        ([2, 3, 5, 1], [5, 3, 3, 3], [1, 1], 1),
        ([2, 3, 6, 7], [17, 3, 3, 3], [1, 1], 1),
        ([1, 16, 8, 8], [16, 16, 3, 3], [1, 1], 1),
        ([2, 5, 9, 14], [20, 5, 3, 3], [2, 2], 1),
        ([1, 4, 7, 37], [33, 4, 3, 3], [1, 2], 1),
        ([2, 3, 19, 23], [8, 3, 7, 7], [2, 2], 3),
        ([2, 6, 9, 10], [12, 6, 1, 1], [2, 2], 0),
        ([1, 7, 4, 29], [4, 7, 2, 3], [1, 1], 0),
    ]

    func geometry(_ c: ([Int], [Int], [Int], Int)) throws -> ConvGeometry {
        try ConvGeometry(input: c.0, weight: c.1, strides: c.2, pads: Array(repeating: c.3, count: 4), dilations: [1, 1], group: 1)
    }

    func direct(_ g: ConvGeometry, blocks: Int, x: [Float], xs: Int, dy: [Float], dys: Int, dw0: [Float], accumulate: Bool,
                workers: Int = 2, avx512: Bool = false) -> [Float] {
        var dw = dw0
        Kernels.directBackwardWeight(g, blocks: blocks, x: x, xBlockStride: xs, dy: dy, dyBlockStride: dys, dw: &dw,
                                     accumulate: accumulate, workers: workers, avx512: avx512)
        return dw
    }

    /// <w, dW(x, dy)> = <conv(x, w), dy> in Double, element by element through unit vectors on a
    /// few weights; and im2col + GEMM's values within Float rounding.
    func testAdjointOfForwardAndIm2colValues() throws {
        var rng = TestRandom(seed: 61)
        for c in shapes {
            let g = try geometry(c)
            let x = rng.array(g.inputCount), dy = rng.array(g.outputCount), w = rng.array(g.weightCount)
            let (xf, dyf) = (x.map(Float.init), dy.map(Float.init))
            let dw = direct(g, blocks: 1, x: xf, xs: 0, dy: dyf, dys: 0, dw0: [Float](repeating: .nan, count: g.weightCount),
                            accumulate: false).map(Double.init)
            // the Float inputs exactly, so that only the kernel's rounding remains
            let (xd, dyd) = (xf.map(Double.init), dyf.map(Double.init))
            let lhs = dot(naiveConv(g, xd, w), dyd)
            XCTAssertEqual(dot(w, dw), lhs, accuracy: 1e-5 * max(1, abs(lhs)), "\(c)")
            for i in stride(from: 0, to: g.weightCount, by: max(1, g.weightCount / 9)) {
                var e = [Double](repeating: 0, count: g.weightCount); e[i] = 1
                let want = dot(naiveConv(g, xd, e), dyd)
                XCTAssertEqual(dw[i], want, accuracy: 1e-5 * max(1, abs(want)), "\(c) weight \(i)")
            }
            var ref = [Float](repeating: 0, count: g.weightCount)
            Kernels.conv2DBackwardWeightIm2col(g, blocks: 1, x: xf, xBlockStride: 0, dy: dyf, dyBlockStride: 0, dw: &ref,
                                               accumulate: false)
            XCTAssertLessThan(maxRelativeError(dw, ref.map(Double.init)), 1e-5, "\(c) vs im2col")
        }
    }

    /// Each weight is one lane's chain over the positions in a fixed order: 1, 2, 3 and 7 workers,
    /// blocks sharing x, sharing dy or neither, and single-block calls give the same bits; the
    /// AVX-512 tiles the AVX2 tiles' bits; accumulate adds to dw.
    func testBitsDoNotDependOnWorkersBlocksOrVectorWidth() throws {
        var rng = TestRandom(seed: 62)
        for c in shapes {
            let g = try geometry(c).withBatch(3)
            let blocks = 3
            let x = rng.array(blocks * g.inputCount).map(Float.init), dy = rng.array(blocks * g.outputCount).map(Float.init)
            let dw0 = rng.array(blocks * g.weightCount).map(Float.init)
            for (xs, dys) in [(0, g.outputCount), (g.inputCount, 0), (g.inputCount, g.outputCount)] {
                for accumulate in [false, true] {
                    let name = "\(c) strides \(xs) \(dys) accumulate \(accumulate)"
                    let one = direct(g, blocks: blocks, x: x, xs: xs, dy: dy, dys: dys, dw0: dw0, accumulate: accumulate, workers: 1)
                    for workers in [2, 3, 7] {
                        let many = direct(g, blocks: blocks, x: x, xs: xs, dy: dy, dys: dys, dw0: dw0, accumulate: accumulate,
                                          workers: workers)
                        XCTAssertEqual(many.map(\.bitPattern), one.map(\.bitPattern), "\(name) workers \(workers)")
                    }
                    if Kernels.cpuHasAVX512 {
                        let wide = direct(g, blocks: blocks, x: x, xs: xs, dy: dy, dys: dys, dw0: dw0, accumulate: accumulate,
                                          workers: 3, avx512: true)
                        XCTAssertEqual(wide.map(\.bitPattern), one.map(\.bitPattern), "\(name) AVX-512")
                    }
                    for b in 0..<blocks {
                        let xb = Array(x[(b * xs)..<(b * xs + g.inputCount)]), dyb = Array(dy[(b * dys)..<(b * dys + g.outputCount)])
                        let range = (b * g.weightCount)..<((b + 1) * g.weightCount)
                        let single = direct(g, blocks: 1, x: xb, xs: 0, dy: dyb, dys: 0, dw0: Array(dw0[range]), accumulate: accumulate)
                        XCTAssertEqual(single.map(\.bitPattern), one[range].map(\.bitPattern), "\(name) block \(b)")
                        if accumulate {
                            let fresh = direct(g, blocks: 1, x: xb, xs: 0, dy: dyb, dys: 0, dw0: Array(dw0[range]), accumulate: false)
                            XCTAssertEqual(single.map(\.bitPattern), zip(fresh, dw0[range]).map { ($0 + $1).bitPattern }, "\(name) block \(b)")
                        }
                    }
                }
            }
        }
    }
}
