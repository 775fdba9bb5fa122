import HutchTensor
import XCTest
@testable import HutchQuantize

final class QuantizationErrorSweepTests: XCTestCase {
    private let configs: [WeightQuantizerConfig] = [
        .init(), .init(scheme: .asymmetric), .init(range: .mse), .init(scheme: .asymmetric, range: .mse),
        .init(granularity: .perTensor), .init(granularity: .perChannel(axis: 1), range: .mse),
    ]

    func testSweepEqualsQuantizeThenMeasureForEveryWidth() throws {
        let w = randomWeight([6, 3, 2, 2], seed: 30, heavyTails: true)
        for config in configs {
            let bits = Array(1...16)
            let errors = try WeightQuantizer.squaredErrors(w, bits: bits, config: config)
            XCTAssertEqual(Set(errors.keys), Set(bits))
            for b in bits {
                let direct = try WeightQuantizer.quantize(w, bits: b, config: config).squaredError(against: w)
                XCTAssertEqual(errors[b]!, direct, accuracy: 1e-12 * direct + 1e-300, "\(config) bits \(b)")
            }
        }
    }

    func testMinMaxSymmetricErrorDecreasesWithBitsOnRandomWeights() throws {
        for seed: UInt64 in [31, 32, 33] {
            let w = randomWeight([16, 64], seed: seed, heavyTails: seed == 33)
            let errors = try WeightQuantizer.squaredErrors(w, bits: Array(1...16))
            for b in 3...16 {
                XCTAssertLessThan(errors[b]!, errors[b - 1]!, "seed \(seed) bits \(b)")
            }
            // Except 1 -> 2: min-max 2-bit is ternary {-1, 0, 1} * max|w|, which rounds most
            // Gaussian weights to 0, while 1-bit uses the least-squares scale mean|w|.
            XCTAssertGreaterThan(errors[2]!, errors[1]!, "seed \(seed)")
            // MSE clipping repairs 2 bits.
            let mse = try WeightQuantizer.squaredErrors(w, bits: [1, 2, 3], config: .init(range: .mse))
            XCTAssertLessThan(mse[2]!, mse[1]!)
            XCTAssertLessThan(mse[3]!, mse[2]!)
        }
    }

    /// Not true in general: grids of different widths are not nested (scale max/3 at 3 bits,
    /// max/7 at 4 bits), so weights on the 3-bit grid quantize exactly at 3 bits but not at 4.
    func testErrorIsNotMonotoneInGeneral() throws {
        let s = Float(1) / 3
        let w = Tensor<Float>(shape: [1, 7], data: [1, s, 2 * s, 0, -s, -2 * s, -1])
        let errors = try WeightQuantizer.squaredErrors(w, bits: [3, 4, 5])
        XCTAssertLessThan(errors[3]!, 1e-12)
        XCTAssertGreaterThan(errors[4]!, 1e-3)
        XCTAssertLessThan(errors[5]!, 1e-12)  // 5-bit grid (max/15) contains the 3-bit grid
    }

    /// What is true: when (b - 1) divides (b' - 1), 2^(b-1) - 1 divides 2^(b'-1) - 1, the b-bit
    /// grid is a subset of the b'-bit grid over the same [-max, max], and the error cannot grow
    /// (up to Float32 rounding of the grid points).
    func testErrorDoesNotGrowOnNestedGrids() throws {
        let pairs = [(2, 3), (2, 8), (3, 5), (3, 7), (4, 7), (3, 9), (5, 9), (4, 10)]
        for seed: UInt64 in [34, 35] {
            let w = randomWeight([8, 40], seed: seed, heavyTails: true)
            let errors = try WeightQuantizer.squaredErrors(w, bits: Array(2...10))
            for (b, wider) in pairs {
                XCTAssertLessThanOrEqual(errors[wider]!, errors[b]! * (1 + 1e-5), "\(b) -> \(wider)")
            }
        }
    }

    func testMSEClippingIsNeverWorseThanMinMaxAndHelpsWithOutliers() throws {
        for scheme in QuantizationScheme.allCases {
            for seed: UInt64 in [36, 37] {
                let w = randomWeight([8, 128], seed: seed, heavyTails: true)
                let bits = Array(1...8)
                let minMax = try WeightQuantizer.squaredErrors(w, bits: bits, config: .init(scheme: scheme))
                let mse = try WeightQuantizer.squaredErrors(w, bits: bits, config: .init(scheme: scheme, range: .mse))
                for b in bits { XCTAssertLessThanOrEqual(mse[b]!, minMax[b]!, "\(scheme) seed \(seed) bits \(b)") }
                for b in [2, 3] { XCTAssertLessThan(mse[b]!, minMax[b]! * 0.95, "\(scheme) bits \(b)") }
            }
        }
    }

    func testMSEClippingIsNeverWorsePerChannel() throws {
        let w = randomWeight([6, 50], seed: 38, heavyTails: true)
        for b in 2...6 {
            let a = try WeightQuantizer.quantize(w, bits: b)
            let m = try WeightQuantizer.quantize(w, bits: b, config: .init(range: .mse))
            let da = a.dequantized().data, dm = m.dequantized().data
            for c in 0..<6 {
                let range = (c * 50)..<((c + 1) * 50)
                let ea = range.reduce(0.0) { $0 + pow(Double(da[$1]) - Double(w.data[$1]), 2) }
                let em = range.reduce(0.0) { $0 + pow(Double(dm[$1]) - Double(w.data[$1]), 2) }
                XCTAssertLessThanOrEqual(em, ea, "bits \(b) channel \(c)")
                XCTAssertLessThanOrEqual(m.scales[c], a.scales[c])
            }
        }
    }

    func testSweepIsDeterministicAndIgnoresDuplicateWidths() throws {
        let w = randomWeight([4, 20], seed: 39)
        let a = try WeightQuantizer.squaredErrors(w, bits: [8, 4, 4, 2], config: .init(range: .mse))
        let b = try WeightQuantizer.squaredErrors(w, bits: [2, 4, 8], config: .init(range: .mse))
        XCTAssertEqual(a, b)
        XCTAssertThrowsError(try WeightQuantizer.squaredErrors(w, bits: [4, 0]))
    }
}
