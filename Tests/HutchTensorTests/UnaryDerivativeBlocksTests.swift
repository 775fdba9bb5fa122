import HutchTestSupport
import XCTest
@testable import HutchTensor

/// `unaryDerivativeTimes` over stacked blocks (one pass, x reused by every block in chunks):
/// each element gets exactly the single-element call's bits, for counts that end mid-chunk and are
/// split over threads, overwriting or accumulating.
final class UnaryDerivativeBlocksTests: XCTestCase {
    func testBlocksGiveTheElementwiseBits() {
        var rng = TestRandom(seed: 43)
        let ops: [UnaryOp] = [.relu, .clip(min: -0.5, max: 0.5), .leakyRelu(alpha: 0.1), .sigmoid, .tanh]
        for count in [1, 2049, 70_001] {
            let blocks = 3
            let x = rng.array(count).map(Float.init), g = rng.array(blocks * count).map(Float.init)
            let out0 = rng.array(blocks * count).map(Float.init)
            for op in ops {
                var y = [Float](repeating: 0, count: count)
                Kernels.unaryForward(op, x: x, y: &y, count: count)
                for accumulate in [false, true] {
                    var got = out0
                    Kernels.unaryDerivativeTimes(op, x: x, y: y, g: g, out: &got, count: count, blocks: blocks, accumulate: accumulate)
                    var expected = got
                    for b in 0..<blocks {
                        // every element of the small counts, every 13th (and the last) of the large one
                        for i in Array(stride(from: 0, to: count, by: count > 5000 ? 13 : 1)) + [count - 1] {
                            var one: [Float] = [out0[b * count + i]]
                            Kernels.unaryDerivativeTimes(op, x: [x[i]], y: [y[i]], g: [g[b * count + i]], out: &one, count: 1, blocks: 1,
                                                         accumulate: accumulate)
                            expected[b * count + i] = one[0]
                        }
                    }
                    XCTAssertEqual(got.map(\.bitPattern), expected.map(\.bitPattern), "\(op) count \(count) accumulate \(accumulate)")
                }
            }
        }
    }
}
