import Foundation
import XCTest

/// `hutch run --measured` as real processes: the measured losses are tasks on the workers
/// (layer × width × batches, the float model's batches as tasks of their own), and every output
/// is byte-identical to `hutch trace --measured` (+ plan + quantize) in one process, for one or
/// two workers, any task size, resumed or not.
final class MeasuredClusterCommandTests: ClusterRunTestCase {
    let small = ["--samples", "32", "--batch-size", "12", "--bits", "2,4,8", "--measured"]

    func testRunWithMeasuredMatchesTraceForAnyWorkersAndTaskSize() throws {
        let reference = try trace(small)
        let text = String(decoding: reference, as: UTF8.self)
        XCTAssertTrue(text.contains("\"measured_base_loss\""), text)
        XCTAssertEqual(text.components(separatedBy: "\"measured_loss_increase\"").count - 1, 7, text)
        // 1 + 7 layers × 3 widths cells over 3 batches: 22 tasks with one task per worker, 66 with 30
        for (workers, tasksPerWorker, measuredTasks) in [(1, "1", 22), (2, "30", 66), (2, nil, nil)] as [(Int, String?, Int?)] {
            let out = directory.appendingPathComponent("run\(workers)-\(tasksPerWorker ?? "default")")
            try runCluster(small + (tasksPerWorker.map { ["--tasks-per-worker", $0] } ?? []), workers: workers, out: out)
            XCTAssertEqual(try? Data(contentsOf: out.appendingPathComponent("sensitivity.json")), reference,
                           "\(workers) worker(s), --tasks-per-worker \(tasksPerWorker ?? "default")")
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
        let document = try assertPlanAndQuantizeMatch(out, traceFlags: small, planFlags: ["--bits", "2,4,8"] + budget)
        XCTAssertEqual(document["objective"] as? String, "measured")
    }

    /// `hutch coordinator --measured` with a `hutch worker` that fetches the model and data as blobs.
    func testCoordinatorAndAFetchingWorkerMatchTrace() throws {
        let reference = try trace(small)
        let out = directory.appendingPathComponent("coordinator-job")
        let coordinator = try start(["coordinator", "--bind", "tcp://127.0.0.1:*", "--workers", "1"] + small + ["--state", out.path], log: "coordinator")
        guard let endpoint = announcedEndpoint() else { return }
        let worker = try start(["worker", "--connect", endpoint, "--threads", "1", "--fetch-blobs"], log: "worker")
        XCTAssertEqual(wait(coordinator, 120, "the coordinator"), 0, stderr("coordinator"))
        XCTAssertEqual(wait(worker, 10, "the worker"), 0, stderr("worker"))
        XCTAssertEqual(try? Data(contentsOf: out.appendingPathComponent("sensitivity.json")), reference)
        XCTAssertTrue(stderr("coordinator").contains("measured-loss task(s) queued"), stderr("coordinator"))
    }

    func testRunResumesFromHalfTheJournal() throws {
        try assertResumesFromHalfTheJournal(small + ["--tasks-per-worker", "30"])
    }

    /// --measured without widths is one line, before anything is served.
    func testMeasuredWithoutWidthsIsRefusedBeforeServing() throws {
        let outcome = try HutchProcess.run(["run", "--workers", "1", "--samples", "8", "--bits", "none", "--measured",
                                            "--out", directory.appendingPathComponent("none").path])
        XCTAssertEqual(outcome.status, 2, outcome.stderr)
        XCTAssertEqual(outcome.stderr.split(separator: "\n").count, 1, outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("--measured"), outcome.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("none/journal").path), "nothing was started")
    }
}
