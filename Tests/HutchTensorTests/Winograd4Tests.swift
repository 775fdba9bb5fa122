import HutchTestSupport
import XCTest
@testable import HutchTensor

/// Winograd F(4x4, 3x3) (Kernels+Winograd4): against the naive loop in Double and im2col in
/// Float, its data gradient as an adjoint, and its bits: AVX2 = AVX-512, independent of threads,
/// of the examples sharing a call and of the blocks sharing a call.
final class Winograd4Tests: XCTestCase {
    /// (input shape, weight shape, pads): odd and even sizes (tails of 1-3 columns and rows),
    /// pads 0/1/2, asymmetric, tile counts below and above a vector, an ImageNet-like 7x7 plane.
    let cases: [([Int], [Int], [Int])] = [
        ([2, 8, 7, 6], [12, 8, 3, 3], [1, 1, 1, 1]),
        ([1, 9, 8, 8], [8, 9, 3, 3], [0, 0, 0, 0]),
        ([2, 6, 5, 9], [8, 6, 3, 3], [2, 0, 1, 2]),
        ([3, 16, 4, 4], [13, 16, 3, 3], [1, 1, 1, 1]),
        ([1, 8, 13, 30], [8, 8, 3, 3], [1, 1, 1, 1]),     // 8 x 4 tiles: two 16-lane vectors' worth, overlapping
        ([4, 64, 7, 7], [16, 64, 3, 3], [1, 1, 1, 1]),    // ResNet's last stage shape at 64 channels
    ]

    override func setUpWithError() throws {
        try XCTSkipUnless(Kernels.cpuHasAVX2FMA, "this CPU has no AVX2 + FMA: F(4x4, 3x3) is never used")
    }

    func geometry(_ c: ([Int], [Int], [Int])) throws -> ConvGeometry {
        try ConvGeometry(input: c.0, weight: c.1, strides: [1, 1], pads: c.2, dilations: [1, 1], group: 1)
    }

    func forward(_ g: ConvGeometry, _ x: [Float], _ w: [Float], avx512: Bool = Kernels.directAVX512Enabled) -> [Float] {
        var y = [Float](repeating: 0, count: g.outputCount)
        Kernels.winograd4Forward(g, blocks: 1, x: x, xBlockStride: 0, w: w, wBlockStride: 0, y: &y, accumulate: false,
                                 avx512: avx512)
        return y
    }

    /// Max |error| / max |exact| against the Double loop: F(4x4, 3x3) in float32 stays within
    /// 1e-5 here (a few 1e-6 measured; im2col in float32 is printed beside it for scale).
    func testForwardMatchesNaiveLoop() throws {
        var rng = TestRandom(seed: 41)
        for c in cases {
            let g = try geometry(c)
            let x = rng.array(g.inputCount), w = rng.array(g.weightCount)
            let exact = naiveConv(g, x, w)
            let y = forward(g, x.map(Float.init), w.map(Float.init))
            var yi = [Float](repeating: 0, count: g.outputCount)
            Kernels.conv2DForwardIm2col(g, blocks: 1, x: x.map(Float.init), xBlockStride: 0, w: w.map(Float.init), wBlockStride: 0,
                                        y: &yi, accumulate: false)
            let (e4, ei) = (maxRelativeError(y.map(Double.init), exact), maxRelativeError(yi.map(Double.init), exact))
            print(String(format: "F(4x4,3x3) %@: max error / max |y| %.2e (im2col %.2e)", "\(c.0)->\(c.1[0])", e4, ei))
            XCTAssertLessThan(e4, 1e-5, "\(c)")
        }
    }

    /// The table sends the stride-1 data gradient of a layer with >= 64 output channels here (the
    /// forward convolution of the transposed geometry); dx against the naive loop's adjoint.
    func testDataGradientIsTheAdjoint() throws {
        var rng = TestRandom(seed: 42)
        let g = try geometry(([1, 8, 14, 15], [64, 8, 3, 3], [1, 1, 1, 1]))
        XCTAssertEqual(ConvPathTable.host.path(g, .backwardData, float: true), .winograd4)
        assertDataGradientIsTheAdjoint(g, w: rng.array(g.weightCount), dy: rng.array(g.outputCount), step: 11, relative: 1e-5)
    }

    /// The AVX2 and AVX-512 products give the same bits (every sum in the same order).
    func testAVX2AndAVX512GiveTheSameBits() throws {
        try XCTSkipUnless(Kernels.cpuHasAVX512, "this CPU has no AVX-512")
        var rng = TestRandom(seed: 43)
        for c in cases {
            let g = try geometry(c)
            let x = rng.array(g.inputCount).map(Float.init), w = rng.array(g.weightCount).map(Float.init)
            XCTAssertEqual(forward(g, x, w, avx512: true).map(\.bitPattern), forward(g, x, w, avx512: false).map(\.bitPattern), "\(c)")
        }
    }

    /// Bits do not depend on the thread count nor on which examples share a call (the chunks).
    func testBitsIndependentOfThreadsAndBatch() throws {
        var rng = TestRandom(seed: 44)
        for c in [cases[0], cases[5]] {
            let g = try geometry(c)
            let x = rng.array(g.inputCount).map(Float.init), w = rng.array(g.weightCount).map(Float.init)
            let one = Kernels.withThreads(1) { forward(g, x, w) }
            XCTAssertEqual(one.map(\.bitPattern), Kernels.withThreads(3) { forward(g, x, w) }.map(\.bitPattern), "\(c)")
            let single = try ConvGeometry(input: [1] + c.0.dropFirst(), weight: c.1, strides: [1, 1], pads: c.2,
                                          dilations: [1, 1], group: 1)
            for n in 0..<g.batch {
                let yn = forward(single, Array(x[(n * single.inputCount)..<((n + 1) * single.inputCount)]), w)
                XCTAssertEqual(yn.map(\.bitPattern), one[(n * single.outputCount)..<((n + 1) * single.outputCount)].map(\.bitPattern))
            }
        }
    }

    /// Stacked blocks (own x and w, accumulating; and a shared x) give each block the bits of a single-block call.
    func testBlocksAreBitIdenticalToSingleCalls() throws {
        var rng = TestRandom(seed: 45)
        let g = try geometry(cases[3]), blocks = 3
        let x = rng.array(blocks * g.inputCount).map(Float.init), w = rng.array(blocks * g.weightCount).map(Float.init)
        let y0 = rng.array(blocks * g.outputCount).map(Float.init)
        for xStride in [g.inputCount, 0] {
            var y = y0
            Kernels.winograd4Forward(g, blocks: blocks, x: x, xBlockStride: xStride, w: w, wBlockStride: g.weightCount,
                                     y: &y, accumulate: true)
            for b in 0..<blocks {
                var single = Array(y0[(b * g.outputCount)..<((b + 1) * g.outputCount)])
                Array(x[(b * xStride)...]).withUnsafeBufferPointer { xb in
                    Array(w[(b * g.weightCount)...]).withUnsafeBufferPointer { wb in
                        Kernels.winograd4Forward(g, blocks: 1, x: xb.baseAddress!, xBlockStride: 0, w: wb.baseAddress!,
                                                 wBlockStride: 0, y: &single, accumulate: true)
                    }
                }
                XCTAssertEqual(single.map(\.bitPattern), y[(b * g.outputCount)..<((b + 1) * g.outputCount)].map(\.bitPattern),
                               "x stride \(xStride) block \(b)")
            }
        }
    }

    /// The SIMD4 transforms give the scalar transforms' bits, overwriting and accumulating, on
    /// every tile count 1 ... 15 with ragged right and bottom edges (widths and heights not a
    /// multiple of 4) and pads 0 ... 2.
    func testVectorTransformsGiveTheScalarBits() throws {
        var rng = TestRandom(seed: 46)
        let pads = [[1, 1, 1, 1], [0, 0, 0, 0], [2, 1, 0, 2], [0, 2, 1, 0]]
        for (i, ow) in (2...60).enumerated() {
            let p = pads[i % pads.count], oh = [2, 3, 5, 6, 9, 13][i % 6]
            let g = try geometry(([2, 3, oh + 2 - p[0] - p[2], ow + 2 - p[1] - p[3]], [9, 3, 3, 3], p))
            XCTAssertEqual([g.outHeight, g.outWidth], [oh, ow])
            let x = rng.array(g.inputCount).map(Float.init), w = rng.array(g.weightCount).map(Float.init)
            let y0 = rng.array(g.outputCount).map(Float.init)
            for accumulate in [false, true] {
                var (vector, scalar) = (y0, y0)
                Kernels.winograd4Forward(g, blocks: 1, x: x, xBlockStride: 0, w: w, wBlockStride: 0, y: &vector,
                                         accumulate: accumulate, vectorTransforms: true)
                Kernels.winograd4Forward(g, blocks: 1, x: x, xBlockStride: 0, w: w, wBlockStride: 0, y: &scalar,
                                         accumulate: accumulate, vectorTransforms: false)
                XCTAssertEqual(vector.map(\.bitPattern), scalar.map(\.bitPattern), "\(oh)x\(ow) pads \(p) accumulate \(accumulate)")
            }
        }
    }
}
