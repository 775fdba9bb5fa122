import HutchTestSupport
import XCTest
@testable import HutchTensor

final class ConvKernelTests: XCTestCase {
    /// (input shape, weight shape, strides, pads, dilations, group)
    let cases: [([Int], [Int], [Int], [Int], [Int], Int)] = [
        ([2, 3, 7, 6], [4, 3, 3, 3], [1, 1], [1, 1, 1, 1], [1, 1], 1),
        ([2, 4, 9, 8], [6, 2, 3, 2], [2, 1], [0, 1, 2, 0], [1, 2], 2),      // groups, asymmetric pads
        ([3, 5, 8, 8], [5, 1, 3, 3], [2, 2], [1, 1, 1, 1], [1, 1], 5),      // depthwise, stride 2
        ([1, 4, 10, 7], [2, 4, 3, 3], [1, 2], [2, 2, 2, 2], [2, 2], 1),     // dilation
        ([2, 6, 5, 5], [4, 6, 1, 1], [2, 2], [0, 0, 0, 0], [1, 1], 1),      // 1x1 stride-2 shortcut
        ([2, 3, 9], [4, 3, 3], [2], [1, 0], [2], 1),                        // 1-D
        ([2, 3, 7, 7], [6, 1, 3, 3], [1, 2], [1, 0, 1, 2], [2, 1], 3),      // depthwise, multiplier 2, direct loop
        ([1, 4, 6, 6], [4, 1, 2, 2], [1, 1], [0, 0, 0, 0], [1, 1], 4),      // depthwise stride 1
    ]

    func geometry(_ c: ([Int], [Int], [Int], [Int], [Int], Int)) throws -> ConvGeometry {
        try ConvGeometry(input: c.0, weight: c.1, strides: c.2, pads: c.3, dilations: c.4, group: c.5)
    }

    func testForwardMatchesNaiveLoop() throws {
        var rng = TestRandom(seed: 1)
        for c in cases {
            let g = try geometry(c)
            let x = rng.array(g.inputCount), w = rng.array(g.weightCount)
            var y = [Double](repeating: 0, count: g.outputCount)
            Kernels.conv2DForward(g, blocks: 1, x: x, xBlockStride: 0, w: w, wBlockStride: 0, y: &y, accumulate: false)
            XCTAssertLessThan(maxRelativeError(y, naiveConv(g, x, w)), 1e-12, "\(c)")
            // Float path agrees too
            var yf = [Float](repeating: 0, count: g.outputCount)
            Kernels.conv2DForward(g, blocks: 1, x: x.map(Float.init), xBlockStride: 0, w: w.map(Float.init), wBlockStride: 0,
                                  y: &yf, accumulate: false)
            XCTAssertLessThan(maxRelativeError(yf.map(Double.init), naiveConv(g, x, w)), 1e-5, "\(c)")
        }
    }

    /// Backward kernels are the adjoints of forward: <conv(x, w), dy> = <x, dX(dy)> = <w, dW(dy)>,
    /// checked element by element through unit vectors on a small case and by inner products on all.
    func testBackwardKernelsAreAdjointsOfForward() throws {
        var rng = TestRandom(seed: 2)
        for c in cases {
            let g = try geometry(c)
            let x = rng.array(g.inputCount), w = rng.array(g.weightCount), dy = rng.array(g.outputCount)
            var dx = [Double](repeating: 0, count: g.inputCount), dw = [Double](repeating: 0, count: g.weightCount)
            Kernels.conv2DBackwardData(g, blocks: 1, dy: dy, dyBlockStride: 0, w: w, wBlockStride: 0, dx: &dx, accumulate: false)
            Kernels.conv2DBackwardWeight(g, blocks: 1, x: x, xBlockStride: 0, dy: dy, dyBlockStride: 0, dw: &dw, accumulate: false)
            let lhs = dot(naiveConv(g, x, w), dy)
            XCTAssertEqual(dot(x, dx), lhs, accuracy: 1e-10 * max(1, abs(lhs)), "\(c)")
            XCTAssertEqual(dot(w, dw), lhs, accuracy: 1e-10 * max(1, abs(lhs)), "\(c)")
            // element-wise: dw[i] = <naiveConv(x, e_i), dy>
            for i in stride(from: 0, to: g.weightCount, by: max(1, g.weightCount / 7)) {
                var e = [Double](repeating: 0, count: g.weightCount); e[i] = 1
                XCTAssertEqual(dw[i], dot(naiveConv(g, x, e), dy), accuracy: 1e-10, "\(c) weight \(i)")
            }
            for i in stride(from: 0, to: g.inputCount, by: max(1, g.inputCount / 7)) {
                var e = [Double](repeating: 0, count: g.inputCount); e[i] = 1
                XCTAssertEqual(dx[i], dot(naiveConv(g, e, w), dy), accuracy: 1e-10, "\(c) input \(i)")
            }
        }
    }

    /// Stacked blocks with shared or per-block operands equal separate calls.
    func testStackedBlocksEqualSeparateCalls() throws {
        var rng = TestRandom(seed: 3)
        let k = 3
        for c in cases {
            let g = try geometry(c)
            let xs = rng.array(k * g.inputCount), ws = rng.array(k * g.weightCount), dys = rng.array(k * g.outputCount)
            func block(_ a: [Double], _ j: Int, _ n: Int) -> [Double] { Array(a[(j * n)..<((j + 1) * n)]) }
            // shared x, k weights
            var y = [Double](repeating: 0, count: k * g.outputCount)
            Kernels.conv2DForward(g, blocks: k, x: xs, xBlockStride: 0, w: ws, wBlockStride: g.weightCount, y: &y, accumulate: false)
            // k inputs, shared w (merged into one batch internally)
            var y2 = [Double](repeating: 0, count: k * g.outputCount)
            Kernels.conv2DForward(g, blocks: k, x: xs, xBlockStride: g.inputCount, w: ws, wBlockStride: 0, y: &y2, accumulate: false)
            var dw = [Double](repeating: 0, count: k * g.weightCount)
            Kernels.conv2DBackwardWeight(g, blocks: k, x: xs, xBlockStride: g.inputCount, dy: dys, dyBlockStride: 0,
                                         dw: &dw, accumulate: false)
            var dx = [Double](repeating: 0, count: k * g.inputCount)
            Kernels.conv2DBackwardData(g, blocks: k, dy: dys, dyBlockStride: g.outputCount, w: ws, wBlockStride: 0,
                                       dx: &dx, accumulate: false)
            for j in 0..<k {
                XCTAssertLessThan(maxRelativeError(block(y, j, g.outputCount), naiveConv(g, block(xs, 0, g.inputCount), block(ws, j, g.weightCount))), 1e-12)
                XCTAssertLessThan(maxRelativeError(block(y2, j, g.outputCount), naiveConv(g, block(xs, j, g.inputCount), block(ws, 0, g.weightCount))), 1e-12)
                var dwj = [Double](repeating: 0, count: g.weightCount)
                Kernels.conv2DBackwardWeight(g, blocks: 1, x: block(xs, j, g.inputCount), xBlockStride: 0, dy: block(dys, 0, g.outputCount),
                                             dyBlockStride: 0, dw: &dwj, accumulate: false)
                XCTAssertLessThan(maxRelativeError(block(dw, j, g.weightCount), dwj), 1e-12)
                var dxj = [Double](repeating: 0, count: g.inputCount)
                Kernels.conv2DBackwardData(g, blocks: 1, dy: block(dys, j, g.outputCount), dyBlockStride: 0, w: block(ws, 0, g.weightCount),
                                           wBlockStride: 0, dx: &dxj, accumulate: false)
                XCTAssertLessThan(maxRelativeError(block(dx, j, g.inputCount), dxj), 1e-12)
            }
        }
    }

    func testPerExampleWeightGradientNormsMatchExplicitGradients() throws {
        var rng = TestRandom(seed: 4)
        let s = 2
        for c in cases {
            let g = try geometry(c)
            let x = rng.array(g.inputCount), dy = rng.array(s * g.outputCount)
            var norms = [Double](repeating: 0, count: s * g.batch)
            Kernels.conv2DPerExampleWeightGradientSquaredNorms(g, blocks: s, x: x, dy: dy, norms: &norms)
            let one = g.withBatch(1)
            for j in 0..<s {
                for n in 0..<g.batch {
                    let xn = Array(x[(n * one.inputCount)..<((n + 1) * one.inputCount)])
                    let start = (j * g.batch + n) * one.outputCount
                    let dyn = Array(dy[start..<(start + one.outputCount)])
                    var dw = [Double](repeating: 0, count: g.weightCount)
                    Kernels.conv2DBackwardWeight(one, blocks: 1, x: xn, xBlockStride: 0, dy: dyn, dyBlockStride: 0, dw: &dw, accumulate: false)
                    let expected = dot(dw, dw)
                    XCTAssertEqual(norms[j * g.batch + n], expected, accuracy: 1e-10 * max(1, expected), "\(c)")
                }
            }
        }
    }

    func testGeometryRejectsBadShapesWithMessages() {
        XCTAssertThrowsError(try ConvGeometry(input: [1, 3, 4, 4], weight: [2, 2, 3, 3], strides: [], pads: [], dilations: [], group: 1))
        XCTAssertThrowsError(try ConvGeometry(input: [1, 3, 2, 2], weight: [2, 3, 3, 3], strides: [], pads: [], dilations: [], group: 1)) {
            XCTAssertTrue("\($0)".contains("smaller than the window"))
        }
        XCTAssertThrowsError(try ConvGeometry(input: [1, 3, 8, 8], weight: [2, 3, 3, 3], strides: [0, 1], pads: [], dilations: [], group: 1))
    }
}
