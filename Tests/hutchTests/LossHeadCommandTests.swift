import Foundation
import XCTest

/// Commands whose numbers are the classifier's (exact and sampled-GGN traces, --measured,
/// --activations, hutch finetune) refuse labels of another loss head in one line, before any
/// long work; `auto` falls back to Hutchinson for them and says why (HutchinsonTests: on a ReLU
/// network, where only the loss head stands in exact mode's way).
final class LossHeadCommandTests: ProcessTestCase {
    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    let model = "Tests/Fixtures/tiny_regressor.onnx"
    let data = "Tests/Fixtures/tiny_regressor_ref.npz"   // x and float targets y: loss mse

    func testClassifierOnlyCommandsRefuseRegressionLabels() throws {
        let refusals: [([String], String)] = [
            (["trace", "--method", "exact"], "exact traces are for classification labels"),
            (["trace", "--method", "ggn"], "sampled GGN traces use the softmax cross-entropy"),
            (["trace", "--method", "hutchinson", "--probes", "2", "--measured"], "--measured needs class labels"),
            (["trace", "--method", "hutchinson", "--probes", "2", "--activations"], "--activations needs class labels"),
        ]
        for (command, message) in refusals {
            let outcome = try HutchProcess.run(command + ["--model", model, "--data", data, "--out", path("s.json")])
            XCTAssertNotEqual(outcome.status, 0, "\(command)")
            XCTAssertEqual(outcome.stderr.split(separator: "\n").filter { $0.hasPrefix("hutch: error") || $0.contains("error:") }.count, 1, outcome.stderr)
            XCTAssertTrue(outcome.stderr.contains(message), "\(command): \(outcome.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: path("s.json")), "\(command)")
        }
    }

    func testAutoFallsBackToHutchinsonAndFinetuneRefuses() throws {
        let trace = try HutchProcess.run(["trace", "--model", model, "--data", data, "--probes", "4", "--bits", "2,4,8", "--out", path("s.json")])
        XCTAssertEqual(trace.status, 0, trace.stderr)
        XCTAssertTrue(trace.stderr.contains("method auto: Hutchinson"), trace.stderr)   // (the unit test covers a ReLU net)
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path("s.json")))) as? [String: Any])
        XCTAssertEqual((root["job"] as? [String: Any])?["method"] as? String, "hutchinson")

        let plan = try HutchProcess.run(["plan", "--sensitivity", path("s.json"), "--bits", "2,4,8", "--avg-bits", "4", "--out", path("p.json")])
        XCTAssertEqual(plan.status, 0, plan.stderr)
        let finetune = try HutchProcess.run(["finetune", "--model", model, "--data", data, "--plan", path("p.json"), "--order", "all",
                                             "--out", path("q.onnx")])
        XCTAssertEqual(finetune.status, 5, finetune.stderr)
        XCTAssertTrue(finetune.stderr.contains("hutch finetune needs class labels"), finetune.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("q.onnx")))
    }
}
