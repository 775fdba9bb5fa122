import HutchTensor
import XCTest
@testable import HutchQuantize

/// 1-bit symmetric is sign quantization: codes {-1, +1}, scale mean|w|.
final class BinaryQuantizerTests: XCTestCase {
    func testCodesAreSignsAndScaleIsMeanAbs() throws {
        let w = Tensor<Float>(shape: [2, 4], data: [0.5, -1, 0, -0.0] + [2, 2, -2, 6])
        let q = try WeightQuantizer.quantize(w, bits: 1)
        XCTAssertEqual(q.codes, [1, -1, 1, 1, 1, 1, -1, 1])
        XCTAssertEqual(q.scales, [0.375, 3])
        XCTAssertEqual(q.zeroPoints, [0, 0])
        XCTAssertEqual(q.dequantized().data, [0.375, -0.375, 0.375, 0.375, 3, 3, -3, 3])
    }

    func testMeanAbsIsTheLeastSquaresScaleForSignCodes() throws {
        let w = randomWeight([4, 64], seed: 20)
        let q = try WeightQuantizer.quantize(w, bits: 1)
        let best = try q.squaredError(against: w)
        for factor: Float in [0.9, 0.97, 1.03, 1.1] {
            var other = q
            other.parameters = q.parameters.map { AffineParameters(scale: $0.scale * factor, zeroPoint: 0) }
            XCTAssertGreaterThan(try other.squaredError(against: w), best)
        }
        // The range method cannot improve on it and is ignored.
        let mse = try WeightQuantizer.quantize(w, bits: 1, config: .init(range: .mse))
        XCTAssertEqual(mse, q)
    }

    func testOneBitAsymmetricHasTwoLevelsIncludingZero() throws {
        let w = Tensor<Float>(shape: [1, 4], data: [0.1, 0.9, 1.0, 0.4])
        let q = try WeightQuantizer.quantize(w, bits: 1, config: .init(scheme: .asymmetric))
        XCTAssertEqual(q.zeroPoints, [0])
        XCTAssertEqual(q.scales, [1])
        XCTAssertEqual(q.codes, [0, 1, 1, 0])
    }
}
