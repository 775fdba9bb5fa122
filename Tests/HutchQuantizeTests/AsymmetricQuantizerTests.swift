import HutchTestSupport
import HutchTensor
import XCTest
@testable import HutchQuantize

final class AsymmetricQuantizerTests: XCTestCase {
    private let asymmetric = WeightQuantizerConfig(scheme: .asymmetric)

    func testZeroPointAndScaleFromMinMax() throws {
        // [-1, 3] at 2 bits: scale 4/3, zero point round(0.75) = 1.
        let w = Tensor<Float>(shape: [1, 4], data: [-1, 0, 1.5, 3])
        let q = try WeightQuantizer.quantize(w, bits: 2, config: asymmetric)
        XCTAssertEqual(q.scales, [Float(4) / 3])
        XCTAssertEqual(q.zeroPoints, [1])
        XCTAssertEqual(q.codes, [0, 1, 2, 3])  // -0.75+1 -> 0 (round(-0.75) = -1), 1.125+1 -> 2, 2.25+1 -> 3
    }

    func testZeroIsExactlyRepresentableAndCodesAreInRange() throws {
        let w = randomWeight([8, 33], seed: 10)
        for bits in 1...8 {
            let q = try WeightQuantizer.quantize(w, bits: bits, config: asymmetric)
            XCTAssertTrue(q.codes.allSatisfy { $0 >= 0 && $0 <= (1 << bits) - 1 }, "bits \(bits)")
            for p in q.parameters {
                XCTAssertTrue((0...Int32((1 << bits) - 1)).contains(p.zeroPoint))
                XCTAssertEqual(q.grid.dequantize(q.grid.quantize(0, p), p), 0)
            }
        }
    }

    func testOneSidedChannels() throws {
        let w = Tensor<Float>(shape: [3, 3], data: [-3, -1, -2] + [1, 2, 3] + [0, 0, 0])
        let q = try WeightQuantizer.quantize(w, bits: 4, config: asymmetric)
        XCTAssertEqual(q.zeroPoints, [15, 0, 0])           // negative-only: 0 is the top code
        XCTAssertEqual(q.scales, [Float(3) / 15, Float(3) / 15, 1])
        XCTAssertEqual(Array(q.codes[0..<3]), [0, 10, 5])
        XCTAssertEqual(Array(q.codes[3..<6]), [5, 10, 15])
        XCTAssertEqual(Array(q.dequantized().data[6...]), [0, 0, 0])
    }

    func testZeroPointRoundsHalfToEvenAndIsClamped() throws {
        let grid = try QuantizationGrid(scheme: .asymmetric, bits: 8)
        // lo = -2.5, hi = 252.5: scale 1, -lo / scale = 2.5 -> 2.
        XCTAssertEqual(grid.parameters(lower: -2.5, upper: 252.5), AffineParameters(scale: 1, zeroPoint: 2))
        // A positive-only range keeps zero point 0.
        XCTAssertEqual(grid.parameters(lower: 1, upper: 255).zeroPoint, 0)
        XCTAssertEqual(grid.quantize(1000, AffineParameters(scale: 1, zeroPoint: 2)), 255)
        XCTAssertEqual(grid.quantize(-1000, AffineParameters(scale: 1, zeroPoint: 2)), 0)
    }

    func testAsymmetricBeatsSymmetricOnOneSidedData() throws {
        var rng = SplitMix64(seed: 11)
        let data = (0..<200).map { _ in Float(rng.uniform()) }
        let w = Tensor(shape: [2, 100], data: data)
        for bits in 2...6 {
            let a = try WeightQuantizer.squaredErrors(w, bits: [bits], config: asymmetric)[bits]!
            let s = try WeightQuantizer.squaredErrors(w, bits: [bits])[bits]!
            XCTAssertLessThan(a, s, "bits \(bits)")
        }
    }
}
