import HutchModel
import HutchTensor
import XCTest
@testable import HutchAutodiff

/// CumSum (RoBERTa numbers its tokens' positions with it): running sums along an axis, in all
/// four ONNX variants, against direct sums; tangents against central differences and the
/// transpose as their adjoint. Its values in a model against PyTorch: fixture tiny_cumsum.
extension DataIndexingOpTests {
    func testCumulativeSumsRunAlongTheirAxisEitherWayInclusiveOrNot() throws {
        let x = Tensor<Double>(shape: [2, 4], data: [1, 2, 3, 4, 10, 20, 30, 40])
        let expected: [(exclusive: Bool, reverse: Bool, y: [Double])] = [
            (false, false, [1, 3, 6, 10, 10, 30, 60, 100]),
            (true, false, [0, 1, 3, 6, 0, 10, 30, 60]),
            (false, true, [10, 9, 7, 4, 100, 90, 70, 40]),
            (true, true, [9, 7, 4, 0, 90, 70, 40, 0]),
        ]
        for (exclusive, reverse, y) in expected {
            let call = try OneNode(.cumulativeSum(axis: 1, exclusive: exclusive, reverse: reverse), [x], batch: 2)
            XCTAssertEqual(values(try call.forward()), y, "exclusive \(exclusive), reverse \(reverse)")
        }
        var rng = TestRandom(seed: 21)
        let cube = rng.tensor([3, 4, 5])
        for axis in [1, 2] {
            for (exclusive, reverse) in [(false, false), (true, false), (false, true), (true, true)] {
                let call = try OneNode(.cumulativeSum(axis: axis, exclusive: exclusive, reverse: reverse), [cube], batch: 3)
                try checkDerivatives(call, linear: [0], seed: 22, "axis \(axis), exclusive \(exclusive), reverse \(reverse)")
            }
        }
    }
}
