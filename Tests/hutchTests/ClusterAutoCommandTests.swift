import Foundation
import XCTest

/// `hutch run` with `--method auto` on a piecewise-linear model of 20 classes (more than 11: the
/// choice takes the pilot calibration): the coordinator decides before serving, prints why,
/// keeps the choice in job.json, and a second run on the same directory does not decide again.
final class ClusterAutoCommandTests: ProcessTestCase {
    func testAutoIsDecidedOnceAndRecordedInJobJSON() throws {
        let (model, data) = try GemmModelFiles.write(in: directory, name: "classes20", inputs: 12, hidden: 16, classes: 20, examples: 16)
        let state = directory.appendingPathComponent("state").path
        let command = ["run", "--workers", "1", "--threads", "1", "--model", model, "--data", data, "--batch-size", "8", "--out", state]
        let first = try HutchProcess.run(command)
        XCTAssertEqual(first.status, 0, first.stderr)
        let line = try XCTUnwrap(first.stderr.split(separator: "\n").first { $0.contains("method auto: ") }, first.stderr)
        let jobData = try Data(contentsOf: URL(fileURLWithPath: state + "/job.json"))
        let job = try XCTUnwrap(JSONSerialization.jsonObject(with: jobData) as? [String: Any])
        let choice = try XCTUnwrap(job["auto_choice"] as? [String: String], "\(job)")
        let method = try XCTUnwrap(choice["method"])
        XCTAssertTrue(["exact", "ggn", "hutchinson"].contains(method), method)
        XCTAssertTrue(line.hasSuffix(try XCTUnwrap(choice["reason"])), "the printed line is the recorded reason: \(line)")
        XCTAssertEqual(((job["job"] as? [String: Any])?["trace"] as? [String: Any])?["method"] as? String, "auto",
                       "the job (and its digest) says auto, as the command does")
        let sensitivity = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: state + "/sensitivity.json"))) as? [String: Any])
        XCTAssertEqual((sensitivity["job"] as? [String: Any])?["method"] as? String, method, "the traces are the chosen method's")

        // the same command again: the recorded choice, no new calibration, job.json untouched
        try FileManager.default.removeItem(atPath: state + "/sensitivity.json")
        let again = try HutchProcess.run(command)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("decided when the job was created"), again.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: state + "/job.json")), jobData)
        let rewritten = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: state + "/sensitivity.json"))) as? [String: Any])
        XCTAssertEqual((rewritten["job"] as? [String: Any])?["method"] as? String, method)
    }
}
