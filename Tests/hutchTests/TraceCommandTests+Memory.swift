import Foundation
import XCTest

/// `hutch trace --memory` with Hutchinson: the plan it logs, the same results under a budget, and
/// a budget too small for one chunk (exit 12).
extension TraceCommandTests {
    func testBudgetChangesNoByteAndTooSmallABudgetIsExit12() throws {
        let flags = ["trace", "--method", "hutchinson", "--probes", "4", "--samples", "32", "--batch-size", "16", "--bits", "none",
                     "--threads", "2"]
        // the default (the machine's memory): a chunk per thread
        let first = directory.appendingPathComponent("s0.json")
        let unbounded = try HutchProcess.run(flags + ["--out", first.path])
        XCTAssertEqual(unbounded.status, 0, unbounded.stderr)
        XCTAssertTrue(unbounded.stderr.contains("Hutchinson runs 2 chunk(s) of 8 example(s) at once at 4 probe(s) per call"), unbounded.stderr)
        // room for one and a half chunks beyond the fixed part, from the plan it logged
        let numbers = try XCTUnwrap(unbounded.stderr.firstMatch(of: /\(([0-9.]+) MB a chunk, ([0-9.]+) MB parameters/), unbounded.stderr)
        let chunk = try XCTUnwrap(Double(numbers.1)), fixed = try XCTUnwrap(Double(numbers.2))
        let second = directory.appendingPathComponent("s1.json")
        let bounded = try HutchProcess.run(flags + ["--memory", String(format: "%.6f", (fixed + 1.5 * chunk) / 1000), "--out", second.path])
        XCTAssertEqual(bounded.status, 0, bounded.stderr)
        XCTAssertTrue(bounded.stderr.contains("Hutchinson runs 1 chunk(s) of 8 example(s) at once at 4 probe(s) per call"), bounded.stderr)
        XCTAssertEqual(try Data(contentsOf: first), try Data(contentsOf: second), "--memory changed the result")
        // the --memory the default's log names runs one chunk at a time, and says no more
        let hint = try XCTUnwrap(unbounded.stderr.firstMatch(of: /; --memory ([0-9.]+) would run one chunk at a time/), unbounded.stderr)
        let third = directory.appendingPathComponent("s2.json")
        let hinted = try HutchProcess.run(flags + ["--memory", String(hint.1), "--out", third.path])
        XCTAssertEqual(hinted.status, 0, hinted.stderr)
        XCTAssertTrue(hinted.stderr.contains("Hutchinson runs 1 chunk(s) of 8 example(s) at once at 4 probe(s) per call"), hinted.stderr)
        XCTAssertFalse(hinted.stderr.contains("would run one chunk at a time"), hinted.stderr)
        XCTAssertEqual(try Data(contentsOf: first), try Data(contentsOf: third), "--memory changed the result")

        let out = directory.appendingPathComponent("small.json")
        let outcome = try HutchProcess.run(flags + ["--memory", "0.3", "--out", out.path])
        XCTAssertEqual(outcome.status, 12, outcome.stderr)
        let errors = outcome.stderr.split(separator: "\n").filter { $0.hasPrefix("hutch: error:") }
        XCTAssertEqual(errors.count, 1, outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("--memory 0.3 GB is too small for Hutchinson"), outcome.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
    }

    /// Fewer samples than the batch size: the plan is for the batch the job has (the log named
    /// chunks of 8 examples, one per thread, for 4 samples, and bounded a call by them).
    func testThePlanIsForTheBatchTheSamplesMake() throws {
        let out = directory.appendingPathComponent("few.json")
        let run = try HutchProcess.run(["trace", "--method", "hutchinson", "--probes", "2", "--samples", "4", "--batch-size", "32",
                                        "--bits", "none", "--threads", "2", "--out", out.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("Hutchinson runs 1 chunk(s) of 4 example(s) at once"), run.stderr)
    }

    /// Activation traces (Hutchinson, chunks of 8 examples) are planned under --memory too: one
    /// chunk at a time (and fewer probes per call if need be) gives the same bytes.
    func testBudgetChangesNoByteOfTheActivationTraces() throws {
        let flags = ["trace", "--method", "hutchinson", "--probes", "2", "--samples", "32", "--batch-size", "16", "--bits", "none",
                     "--threads", "2", "--activations"]
        let first = directory.appendingPathComponent("a0.json")
        let unbounded = try HutchProcess.run(flags + ["--out", first.path])
        XCTAssertEqual(unbounded.status, 0, unbounded.stderr)
        let numbers = try XCTUnwrap(unbounded.stderr.firstMatch(of: /\(([0-9.]+) MB a chunk, ([0-9.]+) MB parameters/), unbounded.stderr)
        let chunk = try XCTUnwrap(Double(numbers.1)), fixed = try XCTUnwrap(Double(numbers.2))
        let second = directory.appendingPathComponent("a1.json")
        let bounded = try HutchProcess.run(flags + ["--memory", String(format: "%.6f", (fixed + 1.5 * chunk) / 1000), "--out", second.path])
        XCTAssertEqual(bounded.status, 0, bounded.stderr)
        XCTAssertEqual(try Data(contentsOf: first), try Data(contentsOf: second), "--memory changed the result")
        XCTAssertTrue(String(decoding: try Data(contentsOf: first), as: UTF8.self).contains("\"activation\""), "activation traces written")
    }

    /// `auto` on a piecewise-linear model of more than 11 classes times a Hutchinson pilot: it is
    /// planned under --memory like the job's calls, so too small a budget stops there, exit 12.
    func testAutoPilotUnderTooSmallABudgetIsExit12() throws {
        let (model, data) = try GemmModelFiles.write(in: directory, name: "classes20", inputs: 12, hidden: 16, classes: 20, examples: 16)
        let out = directory.appendingPathComponent("auto.json")
        let outcome = try HutchProcess.run(["trace", "--model", model, "--data", data, "--memory", "0.3", "--out", out.path])
        XCTAssertEqual(outcome.status, 12, outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("--memory 0.3 GB is too small for Hutchinson"), outcome.stderr)
        XCTAssertFalse(outcome.stderr.contains("method auto: "), "stopped in the pilot, before the choice: \(outcome.stderr)")
        let fits = try HutchProcess.run(["trace", "--model", model, "--data", data, "--memory", "2", "--out", out.path])
        XCTAssertEqual(fits.status, 0, fits.stderr)
        XCTAssertTrue(fits.stderr.contains("method auto: "), fits.stderr)
    }
}
