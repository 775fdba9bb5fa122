import Foundation
import XCTest

/// Process tests that hold `hutch run` to one-process `hutch trace` (+ `plan` + `quantize`) on the
/// embedded example: byte-identical outputs, resumed or not.
class ClusterRunTestCase: ProcessTestCase {
    /// sensitivity.json of `hutch trace FLAGS`.
    func trace(_ flags: [String]) throws -> Data {
        let out = directory.appendingPathComponent("trace-\(UUID().uuidString).json")
        let outcome = try HutchProcess.run(["trace"] + flags + ["--out", out.path])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        return try Data(contentsOf: out)
    }

    /// `hutch run FLAGS --out OUT` with `workers` local workers of one thread; its log is OUT's name.
    func runCluster(_ flags: [String], workers: Int, out: URL) throws {
        let name = out.lastPathComponent
        let process = try start(["run", "--workers", String(workers), "--threads", "1"] + flags + ["--out", out.path], log: name)
        XCTAssertEqual(wait(process, 120, "hutch run --workers \(workers)"), 0, stderr(name))
    }

    /// The cluster job's plan.json and quantized.onnx in `out` against `hutch plan PLANFLAGS` on
    /// `hutch trace TRACEFLAGS`' file and `hutch quantize` of that plan; returns the plan.
    func assertPlanAndQuantizeMatch(_ out: URL, traceFlags: [String], planFlags: [String],
                                    file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let sensitivity = directory.appendingPathComponent("sensitivity.json"), plan = directory.appendingPathComponent("plan.json")
        let onnx = directory.appendingPathComponent("q.onnx")
        try trace(traceFlags).write(to: sensitivity)
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("sensitivity.json")), try Data(contentsOf: sensitivity), file: file, line: line)
        let planned = try HutchProcess.run(["plan", "--sensitivity", sensitivity.path] + planFlags + ["--out", plan.path])
        XCTAssertEqual(planned.status, 0, planned.stderr, file: file, line: line)
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("plan.json")), try Data(contentsOf: plan), file: file, line: line)
        let quantized = try HutchProcess.run(["quantize", "--model", "Examples/digits_resnet.onnx", "--plan", plan.path,
                                              "--data", "Examples/digits.npz", "--out", onnx.path])
        XCTAssertEqual(quantized.status, 0, quantized.stderr, file: file, line: line)
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("quantized.onnx")), try Data(contentsOf: onnx), file: file, line: line)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: plan)) as? [String: Any])
    }

    /// The journal of a finished `hutch run FLAGS` cut to half its bytes (a torn record at the
    /// cut) and sensitivity.json removed: the same command replays the first half, serves the
    /// rest and writes the same bytes.
    func assertResumesFromHalfTheJournal(_ flags: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let out = directory.appendingPathComponent("resume")
        try runCluster(flags, workers: 2, out: out)
        let reference = try Data(contentsOf: out.appendingPathComponent("sensitivity.json"))
        let journal = out.appendingPathComponent("journal")
        let bytes = try Data(contentsOf: journal)
        try bytes.prefix(bytes.count / 2).write(to: journal)
        try FileManager.default.removeItem(at: out.appendingPathComponent("sensitivity.json"))
        try runCluster(flags, workers: 2, out: out)
        let log = stderr("resume")
        XCTAssertTrue(log.contains("results replayed"), log, file: file, line: line)
        XCTAssertEqual(log.components(separatedBy: "workers connect to").count - 1, 2, "half the tasks were left to serve: \(log)", file: file, line: line)
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("sensitivity.json")), reference, file: file, line: line)
    }
}
