import HutchTestSupport
import XCTest
@testable import HutchTensor

/// The im2col weight gradient (`Kernels.conv2DBackwardWeightIm2col`): the adjoint of the forward
/// convolution in w, and the same bits on 1 or 3 threads, whether the threads take chunks or,
/// with fewer chunks than threads, the column blocks of each product.
final class Im2colWeightGradientTests: XCTestCase {
    /// One im2col chunk with 576 patch positions (3 column blocks), and a 32x32 plane whose batch
    /// of 6 is two chunks.
    let geometries: [(input: [Int], weight: [Int])] = [([8, 64, 7, 7], [20, 64, 3, 3]), ([6, 3, 32, 32], [8, 3, 3, 3])]

    func weightGradient(_ g: ConvGeometry, _ x: [Float], _ dy: [Float]) -> [Float] {
        var dw = [Float](repeating: 0, count: g.weightCount)
        Kernels.conv2DBackwardWeightIm2col(g, blocks: 1, x: x, xBlockStride: 0, dy: dy, dyBlockStride: 0, dw: &dw, accumulate: false)
        return dw
    }

    func testIsTheAdjointAndDoesNotDependOnThreads() throws {
        var rng = TestRandom(seed: 61)
        for c in geometries {
            let g = try ConvGeometry(input: c.input, weight: c.weight, strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1)
            XCTAssertEqual(Im2colChunks(g).count, c.input[2] == 7 ? 1 : 2)
            let x = rng.array(g.inputCount), dy = rng.array(g.outputCount)
            let one = Kernels.withThreads(1) { weightGradient(g, x.map(Float.init), dy.map(Float.init)) }
            let three = Kernels.withThreads(3) { weightGradient(g, x.map(Float.init), dy.map(Float.init)) }
            XCTAssertEqual(one.map(\.bitPattern), three.map(\.bitPattern), "\(c)")
            let scale = one.map { abs(Double($0)) }.max() ?? 1
            for j in stride(from: 0, to: g.weightCount, by: 97) {   // dw_j = <dy, conv(x, e_j)>
                var e = [Double](repeating: 0, count: g.weightCount); e[j] = 1
                XCTAssertEqual(Double(one[j]), dot(naiveConv(g, x, e), dy), accuracy: 1e-5 * scale, "\(c), weight \(j)")
            }
        }
    }
}
