import HutchTestSupport
import XCTest
@testable import HutchTensor

/// Several weight blocks on one shared input as one merged GEMM (Kernels+ConvSharedInput, opt-in
/// with HUTCH_MERGE_BLOCKS=1): each block must have the values of the naive loop and of a
/// single-block call (up to float rounding: OpenBLAS's row results depend on the GEMM's row
/// count), and the same bits on every repeated call. By default blocks keep single-call bits.
final class ConvSharedInputTests: XCTestCase {
    /// (input shape, weight shape, strides, pads): im2col and Winograd paths, stride 2, 1x1,
    /// odd sizes, asymmetric pads, and 16 / 32 / 48 output channels (so 2+ blocks per GEMM).
    let cases: [([Int], [Int], [Int], [Int])] = [
        ([2, 3, 7, 9], [16, 3, 3, 3], [1, 1], [1, 1, 1, 1]),        // first-layer shape, im2col
        ([3, 16, 9, 7], [16, 16, 3, 3], [1, 1], [1, 1, 1, 1]),      // 16 channels, odd sizes
        ([2, 16, 9, 8], [32, 16, 3, 3], [2, 2], [1, 1, 1, 1]),      // stride 2
        ([2, 16, 7, 7], [32, 16, 1, 1], [2, 2], [0, 0, 0, 0]),      // 1x1 stride-2 shortcut
        ([2, 32, 7, 6], [32, 32, 3, 3], [1, 1], [1, 1, 1, 1]),      // Winograd
        ([1, 33, 5, 9], [48, 33, 3, 3], [1, 1], [2, 0, 1, 2]),      // Winograd, asymmetric pads
        ([2, 16, 32, 32], [16, 16, 3, 3], [1, 1], [1, 1, 1, 1]),    // ResNet-20 stage-1 shape
    ]

    func geometry(_ c: ([Int], [Int], [Int], [Int])) throws -> ConvGeometry {
        try ConvGeometry(input: c.0, weight: c.1, strides: c.2, pads: c.3, dilations: [1, 1], group: 1)
    }

    /// k = 17 blocks: with 16, 32 and 48 output channels (16, 8 and 5 blocks per GEMM) merged
    /// groups and a rest.
    let k = 17

    func testForwardBlocksMatchSingleCallsAndNaiveLoop() throws {
        var rng = TestRandom(seed: 31)
        for c in cases {
            let g = try geometry(c)
            let perGemm = try XCTUnwrap(Kernels.mergedBlocks(g, blocks: k, xBlockStride: 0, wBlockStride: g.weightCount, enabled: true), "\(c)")
            XCTAssertLessThan(perGemm, k, "\(c): a merged group and a rest")
            let xd = rng.array(g.inputCount), wd = rng.array(k * g.weightCount)
            let x = xd.map(Float.init), w = wd.map(Float.init)
            let y0 = rng.array(k * g.outputCount).map(Float.init)
            for accumulate in [false, true] {
                var y = y0, again = y0
                Kernels.conv2DForwardSharedInput(g, blocks: k, perGemm: perGemm, x: x, w: w, y: &y, accumulate: accumulate)
                Kernels.conv2DForwardSharedInput(g, blocks: k, perGemm: perGemm, x: x, w: w, y: &again, accumulate: accumulate)
                XCTAssertEqual(y.map(\.bitPattern), again.map(\.bitPattern), "\(c): repeated call")
                for b in 0..<k {
                    let range = (b * g.outputCount)..<((b + 1) * g.outputCount)
                    var single = Array(y0[range])
                    let wb = Array(w[(b * g.weightCount)..<((b + 1) * g.weightCount)])
                    Kernels.conv2DForward(g, blocks: 1, x: x, xBlockStride: 0, w: wb, wBlockStride: 0, y: &single,
                                          accumulate: accumulate)
                    XCTAssertLessThan(maxRelativeError(y[range].map(Double.init), single.map(Double.init)), 1e-5,
                                      "\(c) block \(b) accumulate \(accumulate)")
                    if !accumulate {
                        let expected = naiveConv(g, xd, Array(wd[(b * g.weightCount)..<((b + 1) * g.weightCount)]))
                        XCTAssertLessThan(maxRelativeError(y[range].map(Double.init), expected), 1e-5, "\(c) block \(b)")
                    }
                }
            }
        }
    }

    /// The data gradient of k weight blocks on one shared output gradient (Vᵀg) against
    /// single-block calls (bit for bit unless HUTCH_MERGE_BLOCKS=1 merges them).
    func testDataGradientBlocksMatchSingleCalls() throws {
        var rng = TestRandom(seed: 32)
        for c in cases {
            let g = try geometry(c)
            let w = rng.array(k * g.weightCount).map(Float.init), dy = rng.array(g.outputCount).map(Float.init)
            var dx = [Float](repeating: 0, count: k * g.inputCount)
            Kernels.conv2DBackwardData(g, blocks: k, dy: dy, dyBlockStride: 0, w: w, wBlockStride: g.weightCount, dx: &dx,
                                       accumulate: false)
            for b in 0..<k {
                let range = (b * g.inputCount)..<((b + 1) * g.inputCount)
                var single = [Float](repeating: 0, count: g.inputCount)
                Kernels.conv2DBackwardData(g, blocks: 1, dy: dy, dyBlockStride: 0, w: Array(w[(b * g.weightCount)..<((b + 1) * g.weightCount)]),
                                           wBlockStride: 0, dx: &single, accumulate: false)
                if Kernels.mergeBlocksEnabled {
                    XCTAssertLessThan(maxRelativeError(dx[range].map(Double.init), single.map(Double.init)), 1e-5, "\(c) block \(b)")
                } else {
                    XCTAssertEqual(single.map(\.bitPattern), dx[range].map(\.bitPattern), "\(c) block \(b)")
                }
            }
        }
    }

    /// Double runs the same merged path (dgemm), with bit-identical repeated calls.
    func testDoubleForwardMatchesNaiveLoop() throws {
        var rng = TestRandom(seed: 33)
        for c in cases.prefix(4) {
            let g = try geometry(c)
            let x = rng.array(g.inputCount), w = rng.array(k * g.weightCount)
            let perGemm = try XCTUnwrap(Kernels.mergedBlocks(g, blocks: k, xBlockStride: 0, wBlockStride: g.weightCount, enabled: true))
            var y = [Double](repeating: 0, count: k * g.outputCount), again = y
            Kernels.conv2DForwardSharedInput(g, blocks: k, perGemm: perGemm, x: x, w: w, y: &y, accumulate: false)
            Kernels.conv2DForwardSharedInput(g, blocks: k, perGemm: perGemm, x: x, w: w, y: &again, accumulate: false)
            XCTAssertEqual(y.map(\.bitPattern), again.map(\.bitPattern), "\(c): repeated call")
            for b in 0..<k {
                let expected = naiveConv(g, x, Array(w[(b * g.weightCount)..<((b + 1) * g.weightCount)]))
                XCTAssertLessThan(maxRelativeError(Array(y[(b * g.outputCount)..<((b + 1) * g.outputCount)]), expected), 1e-12, "\(c) block \(b)")
            }
        }
    }
}
