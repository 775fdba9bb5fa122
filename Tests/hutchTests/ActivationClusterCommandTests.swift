import Foundation
import XCTest

/// `hutch run --activations` as real processes: the activation traces are tasks on the workers
/// (exact on the example, Hutchinson with --method hutchinson), the quantization errors come
/// from the coordinator, and every output is byte-identical to one process, resumed or not.
final class ActivationClusterCommandTests: ClusterRunTestCase {
    let small = ["--samples", "32", "--batch-size", "12", "--activations"]

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
        let document = try assertPlanAndQuantizeMatch(out, traceFlags: small, planFlags: budget)
        let widths = try XCTUnwrap(document["layers"] as? [[String: Any]]).compactMap { $0["activation_bits"] as? Int }
        XCTAssertTrue(widths.contains(4), "the budget lowers some activations: \(widths)")
    }

    func testRunResumesFromHalfTheJournal() throws {
        try assertResumesFromHalfTheJournal(small + ["--method", "hutchinson", "--probes", "4"])
    }
}
