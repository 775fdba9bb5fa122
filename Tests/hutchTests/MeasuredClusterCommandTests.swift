import Foundation
import XCTest

/// `hutch run --measured` as real processes: the measured losses are tasks on the workers
/// (layer × width × batches, the float model's batches as tasks of their own), and every output
/// is byte-identical to `hutch trace --measured` (+ plan + quantize) in one process, for one or
/// two workers, any task size, resumed or not.
final class MeasuredClusterCommandTests: ProcessTestCase {
    let small = ["--samples", "32", "--batch-size", "12", "--bits", "2,4,8", "--measured"]

    func trace(_ flags: [String]) throws -> Data {
        let out = directory.appendingPathComponent("trace-\(UUID().uuidString).json")
        let outcome = try HutchProcess.run(["trace"] + flags + ["--out", out.path])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        return try Data(contentsOf: out)
    }

    func runCluster(_ flags: [String], workers: Int, out: URL) throws {
        let name = out.lastPathComponent
        let process = try start(["run", "--workers", String(workers), "--threads", "1"] + flags + ["--out", out.path], log: name)
        XCTAssertEqual(wait(process, 120, "hutch run --workers \(workers)"), 0, stderr(name))
    }

    func testRunWithMeasuredMatchesTraceForAnyWorkersAndTaskSize() throws {
        let reference = try trace(small)
        let text = String(decoding: reference, as: UTF8.self)
        XCTAssertTrue(text.contains("\"measured_base_loss\""), text)
        XCTAssertEqual(text.components(separatedBy: "\"measured_loss_increase\"").count - 1, 7, text)
        // 1 + 7 layers × 3 widths cells over 3 batches: 22 tasks with one task per worker, 66 with 30
        for (workers, tasksPerWorker, measuredTasks) in [(1, "1", 22), (2, "30", 66), (2, nil, nil)] as [(Int, String?, Int?)] {
            let out = directory.appendingPathComponent("run\(workers)-\(tasksPerWorker ?? "default")")
            try runCluster(small + (tasksPerWorker.map { ["--tasks-per-worker", $0] } ?? []), workers: workers, out: out)
            XCTAssertEqual(try? Data(contentsOf: out.appendingPathComponent("sensitivity.json")), reference, "\(workers) worker(s), --tasks-per-worker \(tasksPerWorker ?? "default")")
            if let measuredTasks {
                XCTAssertTrue(stderr(out.lastPathComponent).contains("and \(measuredTasks) measured-loss task(s) queued"), stderr(out.lastPathComponent))
            }
        }
    }

    /// Trace, measured-objective plan and quantize in one job: the files of hutch trace, plan and quantize.
    func testRunWithTheMeasuredObjectiveMatchesTracePlanAndQuantize() throws {
        let budget = ["--objective", "measured", "--avg-bits", "4"]
        let out = directory.appendingPathComponent("planned")
        try runCluster(small + budget, workers: 2, out: out)
        let sensitivity = directory.appendingPathComponent("sensitivity.json"), plan = directory.appendingPathComponent("plan.json")
        let onnx = directory.appendingPathComponent("q.onnx")
        try trace(small).write(to: sensitivity)
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("sensitivity.json")), try Data(contentsOf: sensitivity))
        let planned = try HutchProcess.run(["plan", "--sensitivity", sensitivity.path, "--bits", "2,4,8"] + budget + ["--out", plan.path])
        XCTAssertEqual(planned.status, 0, planned.stderr)
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("plan.json")), try Data(contentsOf: plan))
        let document = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: plan)) as? [String: Any])
        XCTAssertEqual(document["objective"] as? String, "measured")
        let quantized = try HutchProcess.run(["quantize", "--model", "Examples/digits_resnet.onnx", "--plan", plan.path,
                                              "--data", "Examples/digits.npz", "--out", onnx.path])
        XCTAssertEqual(quantized.status, 0, quantized.stderr)
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("quantized.onnx")), try Data(contentsOf: onnx))
    }

    /// The journal cut to half its bytes (a torn record at the cut) and the outputs removed: the
    /// same command replays the first half, leases the rest and writes the same bytes.
    func testRunResumesFromHalfTheJournal() throws {
        let flags = small + ["--tasks-per-worker", "30"]
        let out = directory.appendingPathComponent("resume")
        try runCluster(flags, workers: 2, out: out)
        let reference = try Data(contentsOf: out.appendingPathComponent("sensitivity.json"))
        let journal = out.appendingPathComponent("journal")
        let bytes = try Data(contentsOf: journal)
        try bytes.prefix(bytes.count / 2).write(to: journal)
        try FileManager.default.removeItem(at: out.appendingPathComponent("sensitivity.json"))
        try runCluster(flags, workers: 2, out: out)
        let log = stderr("resume")
        XCTAssertTrue(log.contains("results replayed"), log)
        XCTAssertEqual(log.components(separatedBy: "workers connect to").count - 1, 2, "half the tasks were left to serve: \(log)")
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("sensitivity.json")), reference)
    }

    /// --measured without widths, or on labels that are not classes, is one line before anything is served.
    func testMeasuredWithoutWidthsIsRefusedBeforeServing() throws {
        let outcome = try HutchProcess.run(["run", "--workers", "1", "--samples", "8", "--bits", "none", "--measured",
                                            "--out", directory.appendingPathComponent("none").path])
        XCTAssertEqual(outcome.status, 2, outcome.stderr)
        XCTAssertEqual(outcome.stderr.split(separator: "\n").count, 1, outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("--measured"), outcome.stderr)
    }
}
