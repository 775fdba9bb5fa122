import Foundation
import XCTest

/// `hutch trace` and `plan` on a model whose hidden weight three layers read (ALBERT-style sharing
/// across depth): every method runs (exact is refused by name), the first reader carries the
/// weight's trace and the others 0, and the plan gives the tied layers one width.
extension TraceCommandTests {
    func testAWeightReadByThreeLayersTracesOnceAndPlansOneWidth() throws {
        let (model, data) = try GemmModelFiles.write(in: directory, name: "tied", inputs: 8, hidden: 8, classes: 3, examples: 16,
                                                     tiedRepeats: 2)
        for method in ["hutchinson", "ggn"] {
            let out = directory.appendingPathComponent("\(method).json")
            let outcome = try HutchProcess.run(["trace", "--model", model, "--data", data, "--method", method, "--probes", "8",
                                                "--samples", "16", "--batch-size", "8", "--threads", "2", "--out", out.path])
            XCTAssertEqual(outcome.status, 0, outcome.stderr)
            let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: out)) as? [String: Any])
            let layers = try XCTUnwrap(report["layers"] as? [[String: Any]])
            XCTAssertEqual(layers.compactMap { $0["node"] as? String }, ["fc1", "fc1_again_0", "fc1_again_1", "fc2"], method)
            let traces = layers.compactMap { $0["trace"] as? Double }
            XCTAssertEqual(traces.count, 4, method)
            XCTAssertNotEqual(traces[0], 0, "\(method): the first reader carries the weight's trace")
            XCTAssertEqual(Array(traces[1...2]), [0, 0], "\(method): the other readers carry 0")
            XCTAssertEqual(layers[1..<3].compactMap { $0["tie_group"] as? String }, ["fc1", "fc1"], method)

            let plan = directory.appendingPathComponent("\(method)-plan.json")
            let planned = try HutchProcess.run(["plan", "--sensitivity", out.path, "--avg-bits", "5", "--out", plan.path])
            XCTAssertEqual(planned.status, 0, planned.stderr)
            let planLayers = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(contentsOf: plan)) as? [String: Any])?["layers"] as? [[String: Any]])
            XCTAssertEqual(Set(planLayers[0..<3].compactMap { $0["weight_bits"] as? Int }).count, 1, "\(method): tied layers share one width")
            XCTAssertEqual(planLayers[1]["tied_with"] as? [String], ["fc1", "fc1_again_1"], method)
        }
        let exact = try HutchProcess.run(["trace", "--model", model, "--data", data, "--method", "exact", "--samples", "16",
                                          "--out", directory.appendingPathComponent("exact.json").path])
        XCTAssertEqual(exact.status, 4, exact.stderr)
        XCTAssertTrue(exact.stderr.contains("multiplies two factors that both depend on that weight"), exact.stderr)
    }
}
