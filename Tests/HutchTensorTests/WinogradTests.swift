import HutchTestSupport
import XCTest
@testable import HutchTensor

/// The Float 3x3 stride-1 path (from 32 input channels) (Winograd F(2x2, 3x3)) and the stride-1 data gradient computed
/// as a forward convolution, against the naive loop in Double.
final class WinogradTests: XCTestCase {
    /// (input shape, weight shape, pads): odd and even sizes, pads 0/1/2, asymmetric.
    let cases: [([Int], [Int], [Int])] = [
        ([2, 32, 7, 6], [12, 32, 3, 3], [1, 1, 1, 1]),
        ([1, 33, 8, 8], [8, 33, 3, 3], [0, 0, 0, 0]),
        ([2, 34, 5, 9], [8, 34, 3, 3], [2, 0, 1, 2]),
        ([3, 32, 4, 4], [40, 32, 3, 3], [1, 1, 1, 1]),
        ([1, 32, 13, 21], [8, 32, 3, 3], [1, 1, 1, 1]),     // wide rows: SIMD (de)interleave and tails
    ]

    func geometry(_ c: ([Int], [Int], [Int])) throws -> ConvGeometry {
        try ConvGeometry(input: c.0, weight: c.1, strides: [1, 1], pads: c.2, dilations: [1, 1], group: 1)
    }

    func testWinogradForwardMatchesNaiveLoop() throws {
        var rng = TestRandom(seed: 11)
        for c in cases {
            let g = try geometry(c)
            XCTAssertTrue(Kernels.winogradApplies(g), "\(c)")
            let x = rng.array(g.inputCount), w = rng.array(g.weightCount)
            var y = [Float](repeating: 0, count: g.outputCount)
            Kernels.conv2DForward(g, blocks: 1, x: x.map(Float.init), xBlockStride: 0, w: w.map(Float.init), wBlockStride: 0,
                                  y: &y, accumulate: false)
            XCTAssertLessThan(maxRelativeError(y.map(Double.init), naiveConv(g, x, w)), 1e-5, "\(c)")
        }
    }

    /// Data gradient in Float (through the transposed forward convolution) against the adjoint
    /// of the naive loop, element by element.
    func testStrideOneDataGradientMatchesAdjoint() throws {
        var rng = TestRandom(seed: 12)
        for c in cases {
            let g = try geometry(c)
            XCTAssertNotNil(g.strideOneTranspose)
            let w = rng.array(g.weightCount), dy = rng.array(g.outputCount)
            var dx = [Float](repeating: 0, count: g.inputCount)
            Kernels.conv2DBackwardData(g, blocks: 1, dy: dy.map(Float.init), dyBlockStride: 0, w: w.map(Float.init),
                                       wBlockStride: 0, dx: &dx, accumulate: false)
            for i in stride(from: 0, to: g.inputCount, by: 13) {
                var e = [Double](repeating: 0, count: g.inputCount); e[i] = 1
                XCTAssertEqual(Double(dx[i]), dot(naiveConv(g, e, w), dy), accuracy: 1e-4, "\(c) input \(i)")
            }
        }
    }

    /// Stacked blocks (own x and w per block, accumulating) give each block the bits of a
    /// single-block call.
    func testBlocksAreBitIdenticalToSingleCalls() throws {
        var rng = TestRandom(seed: 13)
        for c in [cases[0], cases[4]] {
        let g = try geometry(c)
        let blocks = 3
        let x = rng.array(blocks * g.inputCount).map(Float.init), w = rng.array(blocks * g.weightCount).map(Float.init)
        let y0 = rng.array(blocks * g.outputCount).map(Float.init)
        var y = y0
        Kernels.conv2DForward(g, blocks: blocks, x: x, xBlockStride: g.inputCount, w: w, wBlockStride: g.weightCount,
                              y: &y, accumulate: true)
        for b in 0..<blocks {
            var single = Array(y0[(b * g.outputCount)..<((b + 1) * g.outputCount)])
            Array(x[(b * g.inputCount)...]).withUnsafeBufferPointer { xb in
                Array(w[(b * g.weightCount)...]).withUnsafeBufferPointer { wb in
                    Kernels.conv2DForward(g, blocks: 1, x: xb.baseAddress!, xBlockStride: 0, w: wb.baseAddress!,
                                          wBlockStride: 0, y: &single, accumulate: true)
                }
            }
            XCTAssertEqual(single.map(\.bitPattern), y[(b * g.outputCount)..<((b + 1) * g.outputCount)].map(\.bitPattern))
            // and the values of the naive loop
            let expected = naiveConv(g, x[(b * g.inputCount)..<((b + 1) * g.inputCount)].map(Double.init),
                                     w[(b * g.weightCount)..<((b + 1) * g.weightCount)].map(Double.init))
            let got = (0..<g.outputCount).map { Double(single[$0]) - Double(y0[b * g.outputCount + $0]) }
            XCTAssertLessThan(maxRelativeError(got, expected), 1e-5, "\(c) block \(b)")
        }
        }
    }
}
