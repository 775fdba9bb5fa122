import HutchTestSupport
import XCTest
@testable import HutchTensor

/// Both methods of `conv2DPerExampleWeightGradientSquaredNorms` (materialized gradient, and the
/// position-Gram form) against explicit per-example weight gradients.
final class PerExampleNormTests: XCTestCase {
    /// (input shape, weight shape, strides, pads, dilations, group); most have fewer output
    /// positions than patch rows, where the Gram form is the cheaper one.
    let cases: [([Int], [Int], [Int], [Int], [Int], Int)] = [
        ([3, 8, 4, 4], [6, 8, 3, 3], [1, 1], [1, 1, 1, 1], [1, 1], 1),      // P 16 < patch 72
        ([2, 8, 7, 6], [6, 4, 3, 3], [2, 2], [1, 0, 1, 1], [1, 1], 2),      // stride 2, asymmetric pads, groups
        ([2, 6, 9, 8], [4, 6, 3, 2], [2, 1], [0, 1, 2, 0], [1, 2], 1),      // dilation
        ([2, 6, 5, 5], [4, 6, 1, 1], [2, 2], [0, 0, 0, 0], [1, 1], 1),      // 1x1 stride-2 shortcut (P > patch)
        ([2, 4, 6, 6], [4, 1, 3, 3], [1, 1], [1, 1, 1, 1], [1, 1], 4),      // depthwise
        ([2, 3, 9], [4, 3, 3], [2], [1, 0], [2], 1),                        // 1-D
    ]

    func geometry(_ c: ([Int], [Int], [Int], [Int], [Int], Int)) throws -> ConvGeometry {
        try ConvGeometry(input: c.0, weight: c.1, strides: c.2, pads: c.3, dilations: c.4, group: c.5)
    }

    func testBothMethodsMatchExplicitGradients() throws {
        var rng = TestRandom(seed: 31)
        let s = 3
        for c in cases {
            let g = try geometry(c)
            let x = rng.array(g.inputCount), dy = rng.array(s * g.outputCount)
            let one = g.withBatch(1)
            for (method, stack) in [(PerExampleNormMethod.materialized, 1), (.materialized, 2), (.gram, 1), (.gram, 2), (.automatic, 4)] {
                var norms = [Double](repeating: 0, count: s * g.batch)
                Kernels.conv2DPerExampleWeightGradientSquaredNorms(g, blocks: s, x: x, dy: dy, norms: &norms, method: method, stack: stack)
                for j in 0..<s {
                    for n in 0..<g.batch {
                        let xn = Array(x[(n * one.inputCount)..<((n + 1) * one.inputCount)])
                        let start = (j * g.batch + n) * one.outputCount
                        let dyn = Array(dy[start..<(start + one.outputCount)])
                        var dw = [Double](repeating: 0, count: g.weightCount)
                        Kernels.conv2DBackwardWeight(one, blocks: 1, x: xn, xBlockStride: 0, dy: dyn, dyBlockStride: 0,
                                                     dw: &dw, accumulate: false)
                        let expected = dot(dw, dw)
                        XCTAssertEqual(norms[j * g.batch + n], expected, accuracy: 1e-11 * expected, "\(c) \(method) \(stack)")
                    }
                }
            }
        }
    }

    /// In Float the two methods agree to 1e-5 relative (the Gram form sums products of mixed sign).
    func testFloatMethodsAgree() throws {
        var rng = TestRandom(seed: 32)
        let s = 4
        for c in cases {
            let g = try geometry(c)
            let x = rng.array(g.inputCount).map { Float(max($0, 0)) }   // post-ReLU-like inputs
            let dy = rng.array(s * g.outputCount).map(Float.init)
            var a = [Float](repeating: 0, count: s * g.batch), b = a
            Kernels.conv2DPerExampleWeightGradientSquaredNorms(g, blocks: s, x: x, dy: dy, norms: &a, method: .materialized)
            Kernels.conv2DPerExampleWeightGradientSquaredNorms(g, blocks: s, x: x, dy: dy, norms: &b, method: .gram)
            for i in a.indices { XCTAssertEqual(b[i], a[i], accuracy: 1e-5 * a[i], "\(c)") }
        }
    }

    /// A seed's and an example's norm have the same bits whatever else shares the call: the
    /// other examples of the batch, and the seeds outside its group of `stack`.
    func testNormsDependOnlyOnTheSeedGroup() throws {
        var rng = TestRandom(seed: 33)
        let (s, stack) = (5, 2)
        for c in cases {
            let g = try geometry(c)
            let one = g.withBatch(1)
            let x = rng.array(g.inputCount).map(Float.init), dy = rng.array(s * g.outputCount).map(Float.init)
            for method in [PerExampleNormMethod.materialized, .gram] {
                var all = [Float](repeating: 0, count: s * g.batch)
                Kernels.conv2DPerExampleWeightGradientSquaredNorms(g, blocks: s, x: x, dy: dy, norms: &all, method: method, stack: stack)
                for s0 in stride(from: 0, to: s, by: stack) {
                    let k = min(stack, s - s0)
                    for n in 0..<g.batch {   // seeds s0..<s0+k of example n alone
                        let xn = Array(x[(n * one.inputCount)..<((n + 1) * one.inputCount)])
                        let dyn = (s0..<(s0 + k)).flatMap { j in
                            let start = (j * g.batch + n) * one.outputCount
                            return dy[start..<(start + one.outputCount)]
                        }
                        var part = [Float](repeating: 0, count: k)
                        Kernels.conv2DPerExampleWeightGradientSquaredNorms(one, blocks: k, x: xn, dy: dyn, norms: &part,
                                                                           method: method, stack: stack)
                        for j in 0..<k {
                            XCTAssertEqual(part[j].bitPattern, all[(s0 + j) * g.batch + n].bitPattern,
                                           "\(c) \(method) seed \(s0 + j) example \(n)")
                        }
                    }
                }
            }
        }
    }

    /// The cost rule on ResNet-20's shapes with 9 seeds: Gram at 8x8 (64 positions, 576 patch
    /// rows), materialized at 32x32 and 16x16 and for the 1x1 shortcuts.
    func testCostRuleOnResNet20Shapes() throws {
        func g(_ c: Int, _ hw: Int, _ cout: Int, _ k: Int, _ stride: Int) throws -> ConvGeometry {
            let p = k / 2
            return try ConvGeometry(input: [1, c, hw, hw], weight: [cout, c, k, k], strides: [stride, stride],
                                    pads: [p, p, p, p], dilations: [1, 1], group: 1)
        }
        XCTAssertTrue(Kernels.gramIsCheaper(try g(64, 8, 64, 3, 1), blocks: 9))
        XCTAssertTrue(Kernels.gramIsCheaper(try g(32, 16, 64, 3, 2), blocks: 9))
        XCTAssertFalse(Kernels.gramIsCheaper(try g(64, 8, 64, 3, 1), blocks: 1))
        XCTAssertFalse(Kernels.gramIsCheaper(try g(32, 16, 32, 3, 1), blocks: 9))
        XCTAssertFalse(Kernels.gramIsCheaper(try g(16, 32, 16, 3, 1), blocks: 9))
        XCTAssertFalse(Kernels.gramIsCheaper(try g(16, 32, 32, 1, 2), blocks: 9))
    }
}
