import Foundation
import XCTest

/// `hutch run` whose coordinator spends longer than the workers' liveness window (3 s) between
/// the sensitivity and the quantize phase (HUTCH_TEST_PHASE_PAUSE_MS, as a large model's plan step
/// or the ResNet-18 stall did): kept alive, no worker reconnects; frozen without serving, both
/// reconnect and still finish the quantize phase. Either way the outputs are the bytes of hutch
/// trace + plan + quantize in one process.
final class PhasePauseCommandTests: ProcessTestCase {
    let flags = ["--samples", "64", "--batch-size", "16"]

    /// sensitivity.json, plan.json and quantized.onnx of `hutch run` with the pause.
    func run(pause: String, name: String) throws -> [Data]? {
        let out = directory.appendingPathComponent(name)
        let process = try start(["run", "--workers", "2", "--threads", "1"] + flags + ["--avg-bits", "5", "--out", out.path],
                                log: name, environment: ["HUTCH_TEST_PHASE_PAUSE_MS": pause])
        guard let status = wait(process, 120, "hutch run with the pause \(pause)") else { return nil }
        XCTAssertEqual(status, 0, stderr(name))
        return try ["sensitivity.json", "plan.json", "quantized.onnx"].map { try Data(contentsOf: out.appendingPathComponent($0)) }
    }

    func onePipeline() throws -> [Data] {
        let sensitivity = directory.appendingPathComponent("sensitivity.json"), plan = directory.appendingPathComponent("plan.json")
        let onnx = directory.appendingPathComponent("q.onnx")
        for arguments in [["trace"] + flags + ["--out", sensitivity.path],
                          ["plan", "--sensitivity", sensitivity.path, "--avg-bits", "5", "--out", plan.path],
                          ["quantize", "--model", "Examples/digits_resnet.onnx", "--plan", plan.path, "--data", "Examples/digits.npz", "--out", onnx.path]] {
            let outcome = try HutchProcess.run(arguments)
            XCTAssertEqual(outcome.status, 0, "\(arguments[0]): \(outcome.stderr)")
        }
        return try [sensitivity, plan, onnx].map { try Data(contentsOf: $0) }
    }

    func joins(_ name: String) -> Int {
        stderr(name).split(separator: "\n").filter { $0.contains("coordinator: worker local-") && $0.contains(" joined (") }.count
    }

    func testAPausedOrFrozenCoordinatorBetweenThePhasesStillQuantizesOnTheWorkers() throws {
        let reference = try onePipeline()
        // 4 s inside the step that keeps the links alive: nobody finds the coordinator silent
        let kept = try run(pause: "4000", name: "kept")
        XCTAssertEqual(kept, reference, "kept alive: the outputs of one process")
        XCTAssertFalse(stderr("kept").contains("coordinator silent"), stderr("kept"))
        XCTAssertEqual(joins("kept"), 2, "each worker joined once: \(stderr("kept"))")
        // 4 s frozen: both workers reconnect, and the quantize phase's TASKs sent before their new
        // HELLOs were read come again after the WELCOME
        let frozen = try run(pause: "4000:silent", name: "frozen")
        XCTAssertEqual(frozen, reference, "frozen: the outputs of one process")
        XCTAssertTrue(stderr("frozen").contains("coordinator silent"), "the workers reconnected: \(stderr("frozen"))")
        XCTAssertGreaterThan(joins("frozen"), 2, "the workers joined again: \(stderr("frozen"))")
    }
}
