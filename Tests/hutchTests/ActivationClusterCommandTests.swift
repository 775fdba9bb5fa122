import Foundation
import XCTest

/// `hutch run --activations` as real processes: the activation traces are tasks on the workers
/// (exact on the example, Hutchinson with --method hutchinson), the quantization errors come
/// from the coordinator, and every output is byte-identical to one process, resumed or not.
final class ActivationClusterCommandTests: ProcessTestCase {
    let small = ["--samples", "32", "--batch-size", "12", "--activations"]

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

    func testRunWithActivationsMatchesTraceWithOneAndTwoWorkers() throws {
        for flags in [small, small + ["--method", "hutchinson", "--probes", "4", "--seed", "9"]] {
            let reference = try trace(flags)
            let text = String(decoding: reference, as: UTF8.self)
            XCTAssertTrue(text.contains("\"activation\""), text)
            XCTAssertEqual(text.contains("\"probes\" : 10"), flags.contains("hutchinson"), "Hutchinson takes at least 10 activation probes")
            for workers in [1, 2] {
                let out = directory.appendingPathComponent("run\(workers)-\(flags.count)")
                try runCluster(flags, workers: workers, out: out)
                XCTAssertEqual(try? Data(contentsOf: out.appendingPathComponent("sensitivity.json")), reference, "\(workers) worker(s) \(flags)")
                XCTAssertTrue(stderr(out.lastPathComponent).contains("activation traces:"), stderr(out.lastPathComponent))
            }
        }
    }

    /// Trace, joint plan and quantize in one job: the files of hutch trace, plan and quantize.
    func testRunWithSeveralActivationWidthsMatchesTracePlanAndQuantize() throws {
        let budget = ["--act-bits", "4,8", "--bops-g", "0.01"]
        let out = directory.appendingPathComponent("joint")
        try runCluster(small + budget, workers: 2, out: out)
        let sensitivity = directory.appendingPathComponent("sensitivity.json"), plan = directory.appendingPathComponent("plan.json")
        let onnx = directory.appendingPathComponent("q.onnx")
        try trace(small).write(to: sensitivity)
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("sensitivity.json")), try Data(contentsOf: sensitivity))
        let planned = try HutchProcess.run(["plan", "--sensitivity", sensitivity.path] + budget + ["--out", plan.path])
        XCTAssertEqual(planned.status, 0, planned.stderr)
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("plan.json")), try Data(contentsOf: plan))
        let document = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: plan)) as? [String: Any])
        let widths = try XCTUnwrap(document["layers"] as? [[String: Any]]).compactMap { $0["activation_bits"] as? Int }
        XCTAssertTrue(widths.contains(4), "the budget lowers some activations: \(widths)")
        let quantized = try HutchProcess.run(["quantize", "--model", "Examples/digits_resnet.onnx", "--plan", plan.path,
                                              "--data", "Examples/digits.npz", "--out", onnx.path])
        XCTAssertEqual(quantized.status, 0, quantized.stderr)
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("quantized.onnx")), try Data(contentsOf: onnx))
    }

    /// The journal cut to half its bytes (a torn record at the cut) and the outputs removed: the
    /// same command replays the first half, leases the rest and writes the same bytes.
    func testRunResumesFromHalfTheJournal() throws {
        let flags = small + ["--method", "hutchinson", "--probes", "4"]
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
        XCTAssertTrue(log.contains("workers connect to"), "half the tasks were left to serve: \(log)")
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("sensitivity.json")), reference)
    }
}
