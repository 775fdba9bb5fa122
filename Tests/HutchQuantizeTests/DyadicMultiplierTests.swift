import HutchTestSupport
import Foundation
import XCTest
@testable import HutchQuantize

final class DyadicMultiplierTests: XCTestCase {
    func testRelativeErrorBelowTwoToMinus31FromMicroToThousand() throws {
        var rng = SplitMix64(seed: 40)
        var worst = 0.0
        for i in 0..<20_000 {
            // log-uniform over [1e-6, 1e3], plus the decade ends exactly
            let m = i < 2 ? [1e-6, 1e3][i] : pow(10, -6 + 9 * rng.uniform())
            let d = try DyadicMultiplier(m)
            let relative = abs(d.value - m) / m
            worst = max(worst, relative)
            XCTAssertLessThan(relative, 0x1p-31, "M = \(m)")
            XCTAssertGreaterThanOrEqual(d.numerator, 1 << 30, "M = \(m)")
            XCTAssertTrue((0...62).contains(d.shift))
        }
        XCTAssertGreaterThan(worst, 0x1p-33)  // the bound is nearly attained, not vacuous
    }

    func testKnownValues() throws {
        XCTAssertEqual(try DyadicMultiplier(1), DyadicMultiplier(numerator: 1 << 30, shift: 30))
        XCTAssertEqual(try DyadicMultiplier(0.5), DyadicMultiplier(numerator: 1 << 30, shift: 31))
        XCTAssertEqual(try DyadicMultiplier(1.5), DyadicMultiplier(numerator: 3 << 29, shift: 30))
        // 1/3 = 0x55555555... / 2^32: the numerator is round(2^32 / 3) = 1431655765
        XCTAssertEqual(try DyadicMultiplier(1.0 / 3), DyadicMultiplier(numerator: 1_431_655_765, shift: 32))
    }

    func testRangeBoundaries() throws {
        XCTAssertEqual(try DyadicMultiplier(Double(Int32.max)), DyadicMultiplier(numerator: .max, shift: 0))
        XCTAssertEqual(try DyadicMultiplier(0x1p-32).shift, 62)
        XCTAssertThrowsError(try DyadicMultiplier(Double(Int32.max) + 1)) {
            XCTAssertEqual($0 as? QuantizerError, .multiplierTooLarge(Double(Int32.max) + 1))
        }
        XCTAssertThrowsError(try DyadicMultiplier(1e-12)) {
            XCTAssertEqual($0 as? QuantizerError, .multiplierTooSmall(1e-12))
        }
    }

    func testInvalidMultipliersAreRejected() {
        for m in [0.0, -0.0, -1.0] {
            XCTAssertThrowsError(try DyadicMultiplier(m)) {
                XCTAssertEqual($0 as? QuantizerError, .multiplierNotPositive(m))
                XCTAssertFalse("\($0)".contains("\n"))
            }
        }
        for m in [Double.nan, .infinity, -.infinity] {
            XCTAssertThrowsError(try DyadicMultiplier(m)) {
                guard case .multiplierNotFinite = $0 as? QuantizerError else { return XCTFail("\($0)") }
            }
        }
    }

    func testApplyMatchesRoundedRealProduct() throws {
        var rng = SplitMix64(seed: 41)
        for _ in 0..<2000 {
            let m = pow(10, -4 + 4 * rng.uniform())
            let d = try DyadicMultiplier(m)
            // Small x: x * numerator < 2^47 is exact in Double, so the reference is exact too.
            let small = Int64(Int16(truncatingIfNeeded: rng.next()))
            XCTAssertEqual(Double(d.apply(to: small)), (Double(small) * d.value + 0.5).rounded(.down), "x \(small) m \(m)")
            // Accumulator-sized x: within half a unit plus the dyadic's relative error.
            let large = Int64(Int32(truncatingIfNeeded: rng.next()))
            let real = Double(large) * m
            XCTAssertLessThanOrEqual(abs(Double(d.apply(to: large)) - real), 0.5 + abs(real) * 0x1p-31 + 1e-6)
        }
        XCTAssertEqual(try DyadicMultiplier(0.5).apply(to: 3), 2)    // 1.5 -> 2 (half up)
        XCTAssertEqual(try DyadicMultiplier(0.5).apply(to: -3), -1)  // -1.5 -> -1 (half up)
    }
}

extension DyadicMultiplierTests {
    func testJSONRoundTripAndCheckedDecoding() throws {
        let d = try DyadicMultiplier(0.000123)
        XCTAssertEqual(try JSONDecoder().decode(DyadicMultiplier.self, from: JSONEncoder().encode(d)), d)
        for bad in [#"{"numerator": 0, "shift": 3}"#, #"{"numerator": 5, "shift": 63}"#, #"{"numerator": 5, "shift": -1}"#] {
            XCTAssertThrowsError(try JSONDecoder().decode(DyadicMultiplier.self, from: Data(bad.utf8)), bad)
        }
    }
}
