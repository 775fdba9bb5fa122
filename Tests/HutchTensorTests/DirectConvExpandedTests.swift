import HutchTestSupport
import XCTest
@testable import HutchTensor
import HutchTensorAVX2

/// The expanded AVX-512 kernel (OW 8, built straight from the unpadded input) and the strided
/// data gradient's phase scatter, at the edges of their layouts: pads 0/1/2 and asymmetric,
/// strides 1/2/3, kernels narrower and taller than the stride, blocks sharing x or w. The
/// expanded kernel must give the AVX2 kernel's bits (which the other tests tie to the naive loop).
final class DirectConvExpandedTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(Kernels.cpuHasAVX2FMA, "this CPU has no AVX2 + FMA: the direct kernels are never used")
    }

    func testExpandedKernelGivesTheAVX2BitsAtEveryEdge() throws {
        try XCTSkipUnless(Kernels.cpuHasAVX512, "this CPU has no AVX-512")
        var rng = TestRandom(seed: 41)
        // (kernel h, kernel w, stride h, stride w, pads top/left/bottom/right, output height)
        let shapes: [(Int, Int, Int, Int, [Int], Int)] = [
            (3, 3, 1, 1, [1, 1, 1, 1], 8), (3, 3, 1, 1, [0, 0, 0, 0], 4), (3, 3, 1, 1, [2, 2, 2, 2], 6),
            (3, 3, 2, 2, [1, 1, 1, 1], 8), (3, 3, 2, 2, [0, 0, 0, 0], 2), (1, 1, 2, 2, [0, 0, 0, 0], 4),
            (5, 5, 1, 1, [2, 2, 2, 2], 4), (2, 3, 1, 1, [0, 1, 1, 1], 2), (3, 1, 3, 3, [1, 0, 1, 0], 4),
            (1, 3, 3, 2, [0, 2, 0, 1], 6), (4, 2, 2, 1, [1, 0, 2, 1], 4), (3, 3, 3, 3, [2, 1, 0, 2], 2),
        ]
        for (kh, kw, sh, sw, pads, oh) in shapes {
            // the input size that gives OW 8 and OH oh
            let h = (oh - 1) * sh + kh - pads[0] - pads[2], w = 7 * sw + kw - pads[1] - pads[3]
            let g = try ConvGeometry(input: [3, 5, h, w], weight: [6, 5, kh, kw], strides: [sh, sw], pads: pads,
                                     dilations: [1, 1], group: 1)
            let s = try XCTUnwrap(Kernels.directShape(g))
            XCTAssertEqual(g.outWidth, 8); XCTAssertEqual(g.outHeight, oh)
            XCTAssertTrue(Kernels.directExpandedFits(s))
            let name = "\(kh)x\(kw) stride \(sh),\(sw) pads \(pads)"
            let blocks = 2
            let x = rng.array(blocks * g.inputCount).map(Float.init), wt = rng.array(blocks * g.weightCount).map(Float.init)
            let y0 = rng.array(blocks * g.outputCount).map(Float.init)
            // own x and w, x shared, w shared; overwrite and accumulate
            for (xs, ws) in [(g.inputCount, g.weightCount), (0, g.weightCount), (g.inputCount, 0)] {
                for accumulate in [false, true] {
                    var results = [[Float]]()
                    for kernel in [Kernels.DirectKernel.avx2, .avx512Expanded] {
                        var y = accumulate ? y0 : [Float](repeating: .nan, count: y0.count)
                        Kernels.directForward(g, blocks: blocks, x: x, xBlockStride: xs, w: wt, wBlockStride: ws, y: &y,
                                              accumulate: accumulate, workers: 2, kernel: kernel)
                        results.append(y)
                    }
                    XCTAssertEqual(results[1].map(\.bitPattern), results[0].map(\.bitPattern), "\(name) x \(xs) w \(ws) \(accumulate)")
                    XCTAssertFalse(results[0].contains { $0.isNaN }, name)
                }
            }
        }
        // strided data gradients whose phases are 8 wide (expanded on AVX-512): strides 2 and 3, phases of 1-2 taps
        for c in [([2, 4, 16, 16], [6, 4, 3, 3], [2, 2], [1, 1, 1, 1]), ([1, 3, 24, 24], [5, 3, 3, 3], [3, 3], [1, 1, 1, 1]),
                  ([2, 3, 16, 16], [4, 3, 4, 4], [2, 2], [1, 1, 1, 1]), ([1, 2, 16, 16], [3, 2, 2, 2], [2, 2], [0, 0, 0, 0])] {
            let g = try ConvGeometry(input: c.0, weight: c.1, strides: c.2, pads: c.3, dilations: [1, 1], group: 1)
            let phases = try XCTUnwrap(Kernels.directDataPhases(g))
            XCTAssertTrue(phases.contains { $0.shape.map(Kernels.directExpandedFits) ?? false }, "\(c)")
            let blocks = 2
            let w = rng.array(blocks * g.weightCount).map(Float.init), dy = rng.array(blocks * g.outputCount).map(Float.init)
            let dx0 = rng.array(blocks * g.inputCount).map(Float.init)
            for (ys, ws) in [(0, g.weightCount), (g.outputCount, 0)] {
                for accumulate in [false, true] {
                    var d512 = dx0, d256 = dx0
                    Kernels.directBackwardData(g, blocks: blocks, dy: dy, dyBlockStride: ys, w: w, wBlockStride: ws, dx: &d512,
                                               accumulate: accumulate, avx512: true)
                    Kernels.directBackwardData(g, blocks: blocks, dy: dy, dyBlockStride: ys, w: w, wBlockStride: ws, dx: &d256,
                                               accumulate: accumulate, avx512: false)
                    XCTAssertEqual(d512.map(\.bitPattern), d256.map(\.bitPattern), "\(c) dy \(ys) w \(ws) \(accumulate)")
                }
            }
        }
    }

    /// The vector scatter writes exactly the scalar loop's values, and nothing but its phase's
    /// columns of each row (the other columns, read and stored back, keep their bits).
    func testScatterPhaseMatchesTheScalarLoop() {
        var rng = TestRandom(seed: 42)
        for stride in 1...3 {
            for width in [1, 5, 7, 8, 9, 15, 16, 17, 24] {
                for phase in 0..<stride {
                    for accumulate in [false, true] {
                        let rows = 3, rowLength = width * stride, rowStride = rowLength * 2   // every other dx row
                        let src = rng.array(rows * width).map(Float.init)
                        let dst0 = rng.array(rows * rowStride).map(Float.init)
                        var expected = dst0, got = dst0
                        for r in 0..<rows {
                            for j in 0..<width {
                                let i = r * rowStride + j * stride + phase
                                expected[i] = accumulate ? expected[i] + src[r * width + j] : src[r * width + j]
                            }
                        }
                        got.withUnsafeMutableBufferPointer { d in
                            DirectConvAVX2.scatterPhase(src, rows: rows, width: width, into: d.baseAddress!, dstRowStride: rowStride,
                                                        rowLength: rowLength, stride: stride, phase: phase, accumulate: accumulate)
                        }
                        XCTAssertEqual(got.map(\.bitPattern), expected.map(\.bitPattern),
                                       "stride \(stride) width \(width) phase \(phase) accumulate \(accumulate)")
                    }
                }
            }
        }
    }
}
