import HutchTensor
import XCTest
@testable import HutchQuantize

final class SymmetricQuantizerTests: XCTestCase {
    func testScaleIsMaxAbsOverPositiveLevelsPerChannel() throws {
        let w = Tensor<Float>(shape: [2, 3], data: [0.5, -2.0, 1.0, 3.0, 0.1, -0.2])
        let q = try WeightQuantizer.quantize(w, bits: 4)
        XCTAssertEqual(q.axis, 0)
        XCTAssertEqual(q.scales, [2.0 / 7, 3.0 / 7])
        XCTAssertEqual(q.zeroPoints, [0, 0])
        // In Float32 1.0 / Float(2/7) is 3.4999998, not a tie: 3 (numpy gives the same).
        XCTAssertEqual(q.codes, [2, -7, 3, 7, 0, 0])
    }

    func testTiesRoundHalfToEven() throws {
        // max|w| = 127 gives scale exactly 1 at 8 bits, so x / scale is x itself.
        let values: [Float] = [127, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.5, 126.5, -126.5]
        let q = try WeightQuantizer.quantize(Tensor(shape: [1, values.count], data: values), bits: 8)
        XCTAssertEqual(q.scales, [1])
        XCTAssertEqual(q.codes, [127, 0, 2, 2, 0, -2, -2, 4, 126, -126])
    }

    func testClampingToTheCodeRange() throws {
        let grid = try QuantizationGrid(scheme: .symmetric, bits: 4)
        let p = AffineParameters(scale: 0.5, zeroPoint: 0)
        XCTAssertEqual(grid.quantize(100, p), 7)
        XCTAssertEqual(grid.quantize(-100, p), -8)   // the extra negative code is legal when clipped
        XCTAssertEqual(grid.quantize(.infinity, p), 7)
        XCTAssertEqual(grid.quantize(-.infinity, p), -8)
        XCTAssertEqual(grid.quantize(-3.75, p), -8)  // -7.5 -> -8 (tie to even), in range
        XCTAssertEqual(grid.quantize(3.75, p), 7)    // 7.5 -> 8, clamped to 7
    }

    func testMinMaxCodesStayWithinPlusMinusPositiveLevels() throws {
        let w = randomWeight([6, 50], seed: 1)
        for bits in 2...8 {
            let q = try WeightQuantizer.quantize(w, bits: bits)
            let limit = Int32(1 << (bits - 1)) - 1
            XCTAssertTrue(q.codes.allSatisfy { abs($0) <= limit }, "bits \(bits)")
            XCTAssertTrue(q.codes.contains(limit) || q.codes.contains(-limit))
        }
    }

    func testAllZeroChannelHasSafeScaleAndZeroError() throws {
        let w = Tensor<Float>(shape: [3, 4], data: [1, -2, 3, 4] + [0, 0, -0.0, 0] + [0.1, 0.2, 0.3, 0.4])
        for scheme in QuantizationScheme.allCases {
            for bits in [1, 2, 4, 8] {
                for range in [RangeMethod.minMax, .mse] {
                    let q = try WeightQuantizer.quantize(
                        w, bits: bits, config: .init(scheme: scheme, range: range))
                    XCTAssertTrue(q.scales.allSatisfy { $0 > 0 && $0.isFinite })
                    let zeros = q.dequantized().data[4..<8]
                    if q.grid.isBinary {
                        // Sign codes cannot hold 0: the scale is the smallest normal Float instead.
                        XCTAssertEqual(q.parameters[1].scale, .leastNormalMagnitude)
                        XCTAssertTrue(zeros.allSatisfy { abs($0) <= .leastNormalMagnitude })
                    } else {
                        XCTAssertEqual(q.parameters[1].scale, 1, "\(scheme) \(bits)")
                        XCTAssertTrue(zeros.allSatisfy { $0 == 0 }, "\(scheme) \(bits)")
                    }
                }
            }
        }
        let allZero = Tensor<Float>(zeros: [2, 5])
        let errors = try WeightQuantizer.squaredErrors(allZero, bits: Array(2...8))
        XCTAssertTrue(errors.values.allSatisfy { $0 == 0 })
        XCTAssertLessThan(try WeightQuantizer.squaredErrors(allZero, bits: [1])[1]!, 1e-70)
    }

    func testNegativeOnlyChannelUsesItsMagnitude() throws {
        let w = Tensor<Float>(shape: [1, 4], data: [-1, -0.5, -0.25, -0.125])
        let q = try WeightQuantizer.quantize(w, bits: 3)
        XCTAssertEqual(q.scales, [1.0 / 3])
        XCTAssertEqual(q.codes, [-3, -2, -1, 0])   // -1.5 -> -2, -0.75 -> -1, -0.375 -> 0
    }

    func testChannelAxisOneEqualsAxisZeroOnTheTranspose() throws {
        let w = randomWeight([5, 9], seed: 2)
        let a = try WeightQuantizer.quantize(w, bits: 4, config: .init(granularity: .perChannel(axis: 0)))
        let b = try WeightQuantizer.quantize(transposed(w), bits: 4, config: .init(granularity: .perChannel(axis: 1)))
        XCTAssertEqual(a.parameters, b.parameters)
        XCTAssertEqual(transposed(a.dequantized()), b.dequantized())
    }

    func testConvLayoutChannelsAreOutputChannels() throws {
        // [C_out=2, C_in=2, 1, 2]: channel 0 has max 4, channel 1 has max 0.4.
        let w = Tensor<Float>(shape: [2, 2, 1, 2], data: [1, -4, 2, 3, 0.1, 0.4, -0.2, 0.3])
        let q = try WeightQuantizer.quantize(w, bits: 8)
        XCTAssertEqual(q.scales, [Float(4) / 127, Float(0.4) / 127])
    }

    func testPerTensorUsesOneScale() throws {
        let w = randomWeight([4, 10], seed: 3)
        let q = try WeightQuantizer.quantize(w, bits: 6, config: .init(granularity: .perTensor))
        XCTAssertNil(q.axis)
        XCTAssertEqual(q.parameters.count, 1)
        XCTAssertEqual(q.scales[0], w.data.map(abs).max()! / 31)
        // Per-channel can only do better than one scale for everything here.
        let perChannel = try WeightQuantizer.quantize(w, bits: 6)
        XCTAssertLessThan(try perChannel.squaredError(against: w), try q.squaredError(against: w))
        XCTAssertThrowsError(try q.squaredError(against: transposed(w))) {
            XCTAssertEqual($0 as? QuantizerError, .shapeMismatch(expected: [4, 10], actual: [10, 4]))
        }
    }

    func testDequantizedValuesAreCodeTimesScale() throws {
        let w = randomWeight([3, 7], seed: 4)
        let q = try WeightQuantizer.quantize(w, bits: 5)
        let d = q.dequantized()
        for i in 0..<w.count {
            XCTAssertEqual(d.data[i], Float(q.codes[i]) * q.scales[i / 7])
            XCTAssertLessThanOrEqual(abs(d.data[i] - w.data[i]), q.scales[i / 7] / 2 * (1 + 1e-6))
        }
    }

    func testBadInputsGiveTypedErrors() {
        let w = Tensor<Float>(shape: [2, 2], data: [1, .nan, 0, 1])
        XCTAssertThrowsError(try WeightQuantizer.quantize(w, bits: 4)) { error in
            guard case .nonFiniteValue(let index, _) = error as? QuantizerError else {
                return XCTFail("unexpected \(error)")
            }
            XCTAssertEqual(index, 1)
        }
        let ok = Tensor<Float>(shape: [2, 2], data: [1, 2, 0, 1])
        XCTAssertThrowsError(try WeightQuantizer.quantize(ok, bits: 4, config: .init(granularity: .perChannel(axis: 2)))) {
            XCTAssertEqual($0 as? QuantizerError, .axisOutOfRange(axis: 2, shape: [2, 2]))
        }
        XCTAssertThrowsError(try WeightQuantizer.quantize(Tensor<Float>(zeros: [0, 3]), bits: 4)) {
            XCTAssertEqual($0 as? QuantizerError, .emptyTensor(shape: [0, 3]))
        }
        XCTAssertThrowsError(try WeightQuantizer.quantize(ok, bits: 17))
        XCTAssertThrowsError(try WeightQuantizer.quantize(ok, bits: 4, config: .init(range: .mseClipping(candidates: 0, lowestRatio: 0.3))))
        XCTAssertThrowsError(try WeightQuantizer.squaredErrors(ok, bits: [4], config: .init(range: .mseClipping(candidates: 10, lowestRatio: 0))))
    }
}
