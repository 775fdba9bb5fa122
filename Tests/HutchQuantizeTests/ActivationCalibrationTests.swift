import HutchTestSupport
import Foundation
import XCTest
@testable import HutchQuantize

final class ActivationCalibrationTests: XCTestCase {
    private func batches(seed: UInt64, count: Int = 6, size: Int = 500, relu: Bool = false) -> [[Float]] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in
            (0..<size).map { _ in
                let x = Float(rng.normal() * 2 + 0.5)
                return relu ? max(x, 0) : x
            }
        }
    }

    func testMinMaxMergeEqualsOnePass() throws {
        let data = batches(seed: 60)
        var whole = MinMaxObserver()
        for b in data { try whole.observe(b) }
        var left = MinMaxObserver(), right = MinMaxObserver()
        for b in data[..<2] { try left.observe(b) }
        for b in data[2...] { try right.observe(b) }
        right.merge(left)
        XCTAssertEqual(right, whole)
        let all = data.flatMap { $0 }
        XCTAssertEqual(try whole.range(), ActivationRange(min: all.min()!, max: all.max()!))
        XCTAssertThrowsError(try MinMaxObserver().range()) { XCTAssertEqual($0 as? QuantizerError, .emptyCalibration) }
    }

    func testHistogramMergeIsExactWhateverTheSplit() throws {
        let data = batches(seed: 61)
        var mm = MinMaxObserver()
        for b in data { try mm.observe(b) }
        let range = try mm.range()
        var whole = try HistogramObserver(range: range)
        for b in data { try whole.observe(b) }
        XCTAssertEqual(whole.total, 3000)
        // Split into three workers in another order, merged in yet another order.
        var parts = try (0..<3).map { _ in try HistogramObserver(range: range) }
        for (i, b) in data.enumerated().reversed() { try parts[i % 3].observe(b) }
        var merged = parts[2]
        try merged.merge(parts[0])
        try merged.merge(parts[1])
        XCTAssertEqual(merged, whole)
        XCTAssertEqual(try merged.percentileRange(99.9), try whole.percentileRange(99.9))
    }

    func testPercentileOfUniformDataIsNearTheExactQuantile() throws {
        // 0, 1, ..., 9999: the 99th percentile is about 9899, the 1st about 100.
        let values = (0..<10_000).map(Float.init)
        var h = try HistogramObserver(range: ActivationRange(min: 0, max: 9999), bins: 2048)
        try h.observe(values)
        let binWidth: Float = 9999 / 2048
        let r = try h.percentileRange(99)
        XCTAssertEqual(r.max, 9900, accuracy: binWidth)
        XCTAssertEqual(r.min, 100, accuracy: binWidth)
        let full = try h.percentileRange(100)
        XCTAssertEqual(full, ActivationRange(min: 0, max: 9999))
        // Percentiles clip outliers: one huge value barely moves the 99.9th percentile.
        var tail = try HistogramObserver(range: ActivationRange(min: 0, max: 1_000_000))
        try tail.observe(values + [1_000_000])
        XCTAssertLessThan(try tail.percentileRange(99.9).max, 11_000)
    }

    func testReluActivationsGiveUnsignedRangesWithZeroPointZero() throws {
        let data = batches(seed: 62, relu: true)
        var mm = MinMaxObserver()
        for b in data { try mm.observe(b) }
        var h = try HistogramObserver(range: mm.range())
        for b in data { try h.observe(b) }
        for range in [try mm.range(), try h.percentileRange(99.99)] {
            // The 0.01th percentile of a ReLU output interpolates inside the bin of zeros.
            XCTAssertEqual(range.min, 0, accuracy: range.max / 2048)
            XCTAssertTrue(range.isUnsigned)
            let p = try range.parameters(bits: 8)
            XCTAssertEqual(p.zeroPoint, 0)
            XCTAssertEqual(p.scale, range.max / 255)
        }
        XCTAssertLessThan(try h.percentileRange(99.99).max, try mm.range().max * 1.0001)
    }

    func testSignedActivationRangeGetsAZeroPoint() throws {
        let r = ActivationRange(min: -1, max: 3)
        let p = try r.parameters(bits: 8)
        XCTAssertEqual(p.scale, Float(4) / 255)
        XCTAssertEqual(p.zeroPoint, 64)  // round(1 / (4/255)) = round(63.75)
        XCTAssertEqual(r.unsigned, ActivationRange(min: 0, max: 3))
        XCTAssertThrowsError(try r.parameters(bits: 0))
    }

    func testBadCalibrationInputsAreRejected() throws {
        var mm = MinMaxObserver()
        XCTAssertThrowsError(try mm.observe([1, .infinity]))
        XCTAssertEqual(mm.count, 0)
        XCTAssertThrowsError(try HistogramObserver(range: ActivationRange(min: 1, max: 0)))
        XCTAssertThrowsError(try HistogramObserver(range: ActivationRange(min: 0, max: 1), bins: 0))
        var h = try HistogramObserver(range: ActivationRange(min: 0, max: 1))
        XCTAssertThrowsError(try h.percentileRange(99)) { XCTAssertEqual($0 as? QuantizerError, .emptyCalibration) }
        try h.observe([0.5])
        for p in [50, 100.5, .nan] {
            XCTAssertThrowsError(try h.percentileRange(p))
        }
        let other = try HistogramObserver(range: ActivationRange(min: 0, max: 2))
        XCTAssertThrowsError(try h.merge(other)) { error in
            guard case .histogramMismatch = error as? QuantizerError else { return XCTFail("\(error)") }
        }
    }

    func testHistogramStateSurvivesJSONAndDecodingChecksIt() throws {
        var h = try HistogramObserver(range: ActivationRange(min: -0.1, max: 7.3), bins: 16)
        try h.observe([-0.1, 0, 1, 2, 7.3, 3.14159])
        let json = try JSONEncoder().encode(h)
        XCTAssertEqual(try JSONDecoder().decode(HistogramObserver.self, from: json), h)
        let bad = Data(#"{"lower": 1, "upper": 0, "counts": [1, 2]}"#.utf8)
        XCTAssertThrowsError(try JSONDecoder().decode(HistogramObserver.self, from: bad))
        let noBins = Data(#"{"lower": 0, "upper": 1, "counts": []}"#.utf8)
        XCTAssertThrowsError(try JSONDecoder().decode(HistogramObserver.self, from: noBins))
    }

    func testMinMaxStateSurvivesJSONAndDecodingChecksIt() throws {
        var mm = MinMaxObserver()
        XCTAssertEqual(try JSONDecoder().decode(MinMaxObserver.self, from: JSONEncoder().encode(mm)), mm)
        try mm.observe([-1.25, 3.5, 0.1])
        XCTAssertEqual(try JSONDecoder().decode(MinMaxObserver.self, from: JSONEncoder().encode(mm)), mm)
        for bad in [#"{"count": -1}"#, #"{"count": 2, "min": 3, "max": 1}"#, #"{"count": 2}"#] {
            XCTAssertThrowsError(try JSONDecoder().decode(MinMaxObserver.self, from: Data(bad.utf8)), bad)
        }
    }
}
