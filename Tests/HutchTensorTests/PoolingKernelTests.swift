import HutchTestSupport
import XCTest
@testable import HutchTensor

final class PoolingKernelTests: XCTestCase {
    /// (input, kernel, strides, pads, dilations, ceil)
    let cases: [([Int], [Int], [Int], [Int], [Int], Bool)] = [
        ([2, 3, 6, 6], [2, 2], [2, 2], [0, 0, 0, 0], [1, 1], false),
        ([1, 2, 7, 5], [3, 3], [2, 2], [1, 1, 1, 1], [1, 1], true),
        ([2, 2, 8, 7], [2, 3], [1, 2], [0, 1, 1, 0], [2, 1], false),
        ([1, 3, 5, 5], [3, 3], [2, 2], [0, 0, 0, 0], [1, 1], true),
    ]

    func window(_ g: ConvGeometry, _ oy: Int, _ ox: Int) -> [(Int, Int)] {
        var out = [(Int, Int)]()
        for ki in 0..<g.kernelHeight {
            for kj in 0..<g.kernelWidth {
                let iy = oy * g.strideH - g.padTop + ki * g.dilationH, ix = ox * g.strideW - g.padLeft + kj * g.dilationW
                if iy >= 0 && iy < g.inHeight && ix >= 0 && ix < g.inWidth { out.append((iy, ix)) }
            }
        }
        return out
    }

    func testMaxPoolMatchesNaiveAndBackwardScattersToArgmax() throws {
        var rng = TestRandom(seed: 5)
        for c in cases {
            let g = try ConvGeometry(poolInput: c.0, kernel: c.1, strides: c.2, pads: c.3, dilations: c.4, ceilMode: c.5)
            let x = rng.array(g.inputCount)
            var y = [Double](repeating: 0, count: g.outputCount), arg = [Int32](repeating: 0, count: g.outputCount)
            Kernels.maxPoolForward(g, x: x, y: &y, argmax: &arg)
            var dx = [Double](repeating: 0, count: g.inputCount)
            let dy = rng.array(g.outputCount)
            Kernels.maxPoolScatter(g, planes: g.batch * g.inChannels, argmax: arg, dy: dy, dx: &dx)
            var expectedDx = [Double](repeating: 0, count: g.inputCount)
            for p in 0..<(g.batch * g.inChannels) {
                for oy in 0..<g.outHeight {
                    for ox in 0..<g.outWidth {
                        let cells = window(g, oy, ox)
                        let best = cells.max { x[p * g.inSpatial + $0.0 * g.inWidth + $0.1] < x[p * g.inSpatial + $1.0 * g.inWidth + $1.1] }!
                        let o = p * g.outSpatial + oy * g.outWidth + ox
                        XCTAssertEqual(y[o], x[p * g.inSpatial + best.0 * g.inWidth + best.1], "\(c)")
                        expectedDx[p * g.inSpatial + best.0 * g.inWidth + best.1] += dy[o]
                    }
                }
            }
            XCTAssertLessThan(maxRelativeError(dx, expectedDx), 1e-14, "\(c)")
        }
    }

    func testAveragePoolMatchesNaiveAndIsAdjoint() throws {
        var rng = TestRandom(seed: 6)
        for c in cases {
            let g = try ConvGeometry(poolInput: c.0, kernel: c.1, strides: c.2, pads: c.3, dilations: [1, 1], ceilMode: c.5)
            for include in [false, true] {
                let x = rng.array(g.inputCount), dy = rng.array(g.outputCount)
                var y = [Double](repeating: 0, count: g.outputCount), dx = [Double](repeating: 0, count: g.inputCount)
                Kernels.averagePoolForward(g, planes: g.batch * g.inChannels, countIncludePad: include, x: x, y: &y)
                Kernels.averagePoolBackward(g, planes: g.batch * g.inChannels, countIncludePad: include, dy: dy, dx: &dx)
                for p in 0..<(g.batch * g.inChannels) {
                    for oy in 0..<g.outHeight {
                        for ox in 0..<g.outWidth {
                            let cells = window(g, oy, ox)
                            // PyTorch: with padding counted, the window is clipped to the padded input only
                            let h0 = oy * g.strideH - g.padTop, w0 = ox * g.strideW - g.padLeft
                            let h1 = min(h0 + g.kernelHeight, g.inHeight + g.padBottom), w1 = min(w0 + g.kernelWidth, g.inWidth + g.padRight)
                            let divisor = include ? Double((h1 - h0) * (w1 - w0)) : Double(cells.count)
                            let sum = cells.reduce(0.0) { $0 + x[p * g.inSpatial + $1.0 * g.inWidth + $1.1] }
                            XCTAssertEqual(y[p * g.outSpatial + oy * g.outWidth + ox], sum / divisor, accuracy: 1e-14, "\(c) \(include)")
                        }
                    }
                }
                XCTAssertEqual(dot(y, dy), dot(x, dx), accuracy: 1e-12)
            }
        }
    }

    func testCeilModeOutputSizeFollowsPyTorch() throws {
        // PyTorch: MaxPool2d(3, stride 2, ceil_mode=True) on 5x5 gives 2x2; with padding 1 on 7x7 gives 4x4
        XCTAssertEqual(try ConvGeometry(poolInput: [1, 1, 5, 5], kernel: [3, 3], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1], ceilMode: true).outHeight, 2)
        XCTAssertEqual(try ConvGeometry(poolInput: [1, 1, 6, 6], kernel: [3, 3], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1], ceilMode: true).outHeight, 3)
        XCTAssertEqual(try ConvGeometry(poolInput: [1, 1, 7, 7], kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], dilations: [1, 1], ceilMode: true).outHeight, 4)
    }
}

final class ElementwiseKernelTests: XCTestCase {
    func testBroadcastBinaryAndReduceMatchNaive() throws {
        var rng = TestRandom(seed: 7)
        let cases: [([Int], [Int])] = [([2, 3, 4], [3, 1]), ([4], [2, 3, 4]), ([2, 1, 4], [1, 3, 1]), ([5], [5]), ([], [2, 2])]
        for (sa, sb) in cases {
            let plan = try BroadcastPlan(sa, sb)
            let a = rng.array(sa.reduce(1, *)), b = rng.array(sb.reduce(1, *))
            var out = [Double](repeating: 0, count: plan.outCount)
            Kernels.broadcastBinary(plan, .mul, a: a, b: b, out: &out, accumulate: false)
            let rank = plan.outShape.count
            func index(_ flat: Int, _ shape: [Int]) -> Int {
                let padded = Array(repeating: 1, count: rank - shape.count) + shape
                var rest = flat, idx = 0, mul = 1
                for d in stride(from: rank - 1, through: 0, by: -1) {
                    let i = rest % plan.outShape[d]; rest /= plan.outShape[d]
                    if padded[d] != 1 { idx += i * mul }
                    mul *= padded[d]
                }
                return idx
            }
            var reduced = [Double](repeating: 0, count: a.count)
            let g = rng.array(plan.outCount)
            for o in 0..<plan.outCount {
                XCTAssertEqual(out[o], a[index(o, sa)] * b[index(o, sb)], accuracy: 1e-15)
                reduced[index(o, sa)] += g[o] * b[index(o, sb)]
            }
            var got = [Double](repeating: 0, count: a.count)
            Kernels.broadcastReduce(plan, full: g, times: b, into: &got)
            XCTAssertLessThan(maxRelativeError(got, reduced), 1e-13, "\(sa) \(sb)")
        }
        XCTAssertThrowsError(try BroadcastPlan([2, 3], [4]))
    }

    func testMatMulWithBroadcastBatchMatchesNaive() throws {
        var rng = TestRandom(seed: 8)
        for (sa, sb) in [([2, 3, 4], [4, 5]), ([3, 4], [2, 4, 5]), ([2, 1, 3, 4], [3, 4, 2]), ([4], [4, 3]), ([2, 3, 4], [4])] {
            let p = try MatMulPlan(sa, sb)
            let a = rng.array(sa.reduce(1, *)), b = rng.array(sb.reduce(1, *))
            var out = [Double](repeating: 0, count: p.outShape.reduce(1, *))
            Kernels.matMul(p, a: a, b: b, out: &out, accumulate: false)
            for i in 0..<p.batchCount {
                for r in 0..<p.m {
                    for c in 0..<p.n {
                        var s = 0.0
                        for q in 0..<p.k { s += a[p.aOffsets[i] + r * p.k + q] * b[p.bOffsets[i] + q * p.n + c] }
                        XCTAssertEqual(out[(i * p.m + r) * p.n + c], s, accuracy: 1e-13)
                    }
                }
            }
            // backward kernels are adjoints
            let g = rng.array(out.count)
            var da = [Double](repeating: 0, count: a.count), db = [Double](repeating: 0, count: b.count)
            Kernels.matMulBackwardA(p, g: g, b: b, da: &da)
            Kernels.matMulBackwardB(p, a: a, g: g, db: &db)
            XCTAssertEqual(dot(a, da), dot(out, g), accuracy: 1e-12)
            XCTAssertEqual(dot(b, db), dot(out, g), accuracy: 1e-12)
        }
        XCTAssertThrowsError(try MatMulPlan([2, 3], [4, 5]))
    }

    func testActivationDerivativesMatchFiniteDifferences() {
        let xs: [Double] = [-2.5, -0.7, -0.1, 0.2, 0.9, 3.1]
        for op in [UnaryOp.relu, .clip(min: -1, max: 1.5), .leakyRelu(alpha: 0.1), .sigmoid, .tanh] {
            var y = [Double](repeating: 0, count: xs.count)
            Kernels.unaryForward(op, x: xs, y: &y, count: xs.count)
            var d = [Double](repeating: 0, count: xs.count)
            Kernels.unaryDerivativeTimes(op, x: xs, y: y, g: [Double](repeating: 1, count: xs.count), out: &d,
                                         count: xs.count, blocks: 1, accumulate: false)
            var d2 = [Double](repeating: 0, count: xs.count)
            Kernels.unarySecondDerivativeTimes(op, y: y, t: [Double](repeating: 1, count: xs.count),
                                               g: [Double](repeating: 1, count: xs.count), out: &d2, count: xs.count, blocks: 1)
            let h = 1e-5
            for (i, x) in xs.enumerated() {
                var yp = [0.0], ym = [0.0]
                Kernels.unaryForward(op, x: [x + h], y: &yp, count: 1)
                Kernels.unaryForward(op, x: [x - h], y: &ym, count: 1)
                XCTAssertEqual(d[i], (yp[0] - ym[0]) / (2 * h), accuracy: 1e-7, "\(op) at \(x)")
                XCTAssertEqual(d2[i], (yp[0] - 2 * y[i] + ym[0]) / (h * h), accuracy: 1e-4, "\(op) at \(x)")
            }
        }
    }
}
