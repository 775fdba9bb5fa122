import HutchAllocation
import XCTest

/// The measured objective reads `measured_loss_increase` and counts a loss decrease as no cost.
final class MeasuredObjectiveTests: XCTestCase {
    func layer(_ increases: [String: Double]?) -> SensitivityReport.Layer {
        var layer = SensitivityReport.Layer(index: 0, node: "fc", weight: "w", op: "Gemm", shape: [2, 2], parameters: 4, macs: 4,
                                            trace: 1, tracePerParameter: 0.25, standardError: nil, probes: nil, exact: true,
                                            method: "exact", quantizationError: ["2": 8])
        layer.measuredLossIncrease = increases
        return layer
    }

    func testPerturbationIsTheMeasuredIncreaseAndNeverNegative() {
        let l = layer(["2": 0.3, "3": -0.01])
        XCTAssertEqual(Objective.measured.perturbation(l, bits: 2), 0.3)
        XCTAssertEqual(Objective.measured.perturbation(l, bits: 3), 0)
        XCTAssertNil(Objective.measured.perturbation(l, bits: 4))
        XCTAssertNil(Objective.measured.perturbation(layer(nil), bits: 2))
        XCTAssertFalse(Objective.measured.needsQuantizationErrors)
    }

    func testCheckHalvesTheHawqV3PerturbationAndMarksThePlan() throws {
        var report = SensitivityReport(job: .init(modelDigest: "sha256:" + String(repeating: "0", count: 64), samples: 1, method: "exact", toolVersion: "t"),
                                       quantization: nil, layers: [layer(["2": 0.3, "3": -0.01])])
        report.quantization = .init(scheme: "symmetric_per_channel_minmax", bits: [2])
        let check = try PredictionCheck(report: report, chosenBits: [2], source: "s")
        XCTAssertEqual(check.rows.map(\.bits), [2, 3])
        XCTAssertEqual(check.rows[0].predicted, 1.0)        // ½ · 1/4 · 8
        XCTAssertNil(check.rows[1].predicted)               // no quantization error at 3 bits
        XCTAssertEqual(check.rows.map(\.chosen), [true, false])
        XCTAssertTrue(check.lines.last!.contains("predicted +1.00000, measured (sum of single-layer increases) +0.30000"), check.lines.last!)
    }
}
