import Foundation
import XCTest

/// `hutch trace --measured`, `hutch plan --objective measured` and `hutch plan --check` end to end.
final class MeasuredCommandTests: ProcessTestCase {
    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func testMeasuredTraceFeedsTheMeasuredObjectiveAndTheCheck() throws {
        let trace = try HutchProcess.run(["trace", "--samples", "64", "--bits", "2,3,4", "--measured", "--out", path("s.json")])
        XCTAssertEqual(trace.status, 0, trace.stderr)
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path("s.json")))) as? [String: Any])
        XCTAssertNotNil((root["job"] as? [String: Any])?["measured_base_loss"] as? Double)
        for layer in try XCTUnwrap(root["layers"] as? [[String: Any]]) {
            XCTAssertEqual((layer["measured_loss_increase"] as? [String: Double]).map { Set($0.keys) }, ["2", "3", "4"], "\(layer["node"] ?? "")")
        }
        let plan = try HutchProcess.run(["plan", "--sensitivity", path("s.json"), "--bits", "2,3,4", "--avg-bits", "3",
                                         "--objective", "measured", "--check", "--model", "Examples/digits_resnet.onnx",
                                         "--data", "Examples/digits.npz", "--out", path("p.json")])
        XCTAssertEqual(plan.status, 0, plan.stderr)
        XCTAssertTrue(plan.stderr.contains("measured/predicted"), plan.stderr)
        XCTAssertTrue(plan.stderr.contains("plan: predicted"), plan.stderr)
        XCTAssertTrue(plan.stderr.contains("measured with all layers at once +"), plan.stderr)
        XCTAssertEqual(plan.stderr.components(separatedBy: "bits: predicted").count - 1, 7 * 3, plan.stderr)
        let written = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path("p.json")))) as? [String: Any])
        XCTAssertEqual(written["objective"] as? String, "measured")
    }

    func testMeasuredObjectiveAndCheckWithoutMeasurementsAreRefused() throws {
        for flags in [["--objective", "measured", "--avg-bits", "4"], ["--avg-bits", "4", "--check"]] {
            let outcome = try HutchProcess.run(["plan", "--sensitivity", "Tests/Fixtures/export/digits_sensitivity.json", "--out", path("p.json")] + flags)
            XCTAssertEqual(outcome.status, 6, outcome.stderr)
            XCTAssertEqual(outcome.stderr.split(separator: "\n").count, 1, outcome.stderr)
            XCTAssertTrue(outcome.stderr.contains("hutch trace --measured"), outcome.stderr)
        }
        let stray = try HutchProcess.run(["plan", "--sensitivity", "Tests/Fixtures/export/digits_sensitivity.json", "--avg-bits", "4",
                                          "--data", "Examples/digits.npz", "--out", path("p.json")])
        XCTAssertEqual(stray.status, 2, stray.stderr)
        XCTAssertTrue(stray.stderr.contains("--check"), stray.stderr)
        let none = try HutchProcess.run(["trace", "--samples", "8", "--bits", "none", "--measured", "--out", path("s.json")])
        XCTAssertEqual(none.status, 2, none.stderr)
        XCTAssertTrue(none.stderr.contains("--measured"), none.stderr)
    }
}
