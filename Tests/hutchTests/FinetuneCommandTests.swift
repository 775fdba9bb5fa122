import Foundation
import XCTest

/// `hutch finetune` end to end on the embedded example: it improves the quantized model, is
/// deterministic, writes the best model so far on SIGINT, and refuses bad input with one line.
final class FinetuneCommandTests: ProcessTestCase {
    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// The plan `hutch plan` makes from the committed sensitivity file (mixed at --avg-bits, or uniform --bits).
    func makePlan(_ budget: [String]) throws -> String {
        let out = path("plan.json")
        let outcome = try HutchProcess.run(["plan", "--sensitivity", "Tests/Fixtures/export/digits_sensitivity.json", "--out", out] + budget)
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        return out
    }

    func log(_ name: String) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path(name)))) as? [String: Any])
    }

    func testDefaultsImproveTheMixedThreeBitPlanOfTheExample() throws {
        let plan = try makePlan(["--avg-bits", "3"])
        let outcome = try HutchProcess.run(["finetune", "--plan", plan, "--out", path("q.onnx"), "--packed", path("q.hutchq")])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("stage 4/4 epoch 4/4"), outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("ETA"), outcome.stderr)
        let written = try XCTUnwrap(try log("q.finetune.json")["written"] as? [String: Any])
        let before = try XCTUnwrap(try log("q.finetune.json")["before"] as? [String: Any])
        XCTAssertGreaterThan(try XCTUnwrap(written["accuracy"] as? Double), try XCTUnwrap(before["accuracy"] as? Double))
        XCTAssertLessThan(try XCTUnwrap(written["loss"] as? Double), try XCTUnwrap(before["loss"] as? Double))
        XCTAssertTrue(FileManager.default.fileExists(atPath: path("q.hutchq")))
        XCTAssertTrue(outcome.stdout.contains("→ \(path("q.onnx"))"), outcome.stdout)
    }

    func testTwoRunsWithTheSameSeedAndThreadsWriteTheSameBytes() throws {
        let plan = try makePlan(["--bits", "3"])
        for name in ["a", "b"] {
            let outcome = try HutchProcess.run(["finetune", "--plan", plan, "--epochs", "1",
                                                "--sensitivity", "Tests/Fixtures/export/digits_sensitivity.json",
                                                "--threads", "2", "--out", path("\(name).onnx")])
            XCTAssertEqual(outcome.status, 0, outcome.stderr)
            XCTAssertTrue(outcome.stderr.contains("order (most sensitive first; blocks by trace per parameter): "), outcome.stderr)
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path("a.onnx"))), try Data(contentsOf: URL(fileURLWithPath: path("b.onnx"))))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path("a.finetune.json"))),
                       try Data(contentsOf: URL(fileURLWithPath: path("b.finetune.json"))))
        // 7 layers in 4 blocks: stem, block1's two convs, block2's three (shortcut included), fc.
        let stages = try XCTUnwrap(try log("a.finetune.json")["stages"] as? [[String: Any]])
        XCTAssertEqual(Set(stages.compactMap { $0["new_layers"] as? [String] }),
                       [["/stem/conv/Conv"], ["/block1/c1/conv/Conv", "/block1/c2/conv/Conv"],
                        ["/block2/shortcut/conv/Conv", "/block2/c1/conv/Conv", "/block2/c2/conv/Conv"], ["/fc/Gemm"]])
    }

    func testEigenRanksByComputedTopEigenvalues() throws {
        let plan = try makePlan(["--bits", "4"])
        let outcome = try HutchProcess.run(["finetune", "--plan", plan, "--epochs", "1", "--eigen", "--out", path("q.onnx")])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("computing the Hessian top eigenvalues"), outcome.stderr)
        XCTAssertEqual((try log("q.finetune.json")["stages"] as? [Any])?.count, 4)
    }

    func testInterruptWritesTheBestModelSoFarAndExitsTen() throws {
        let plan = try makePlan(["--bits", "2"])
        let process = try start(["finetune", "--plan", plan, "--order", "all", "--epochs", "100000", "--out", path("q.onnx")], log: "finetune")
        XCTAssertTrue(eventually(60) { stderr("finetune").contains("epoch 1/100000") }, stderr("finetune"))
        kill(process.processIdentifier, SIGINT)
        XCTAssertEqual(wait(process, 30, "the interrupted finetune"), 10, stderr("finetune"))
        XCTAssertTrue(stderr("finetune").contains("wrote the best model so far"), stderr("finetune"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: path("q.onnx")))
        XCTAssertEqual(try log("q.finetune.json")["interrupted"] as? Bool, true)
    }

    func testBadFlagsAndFilesGetOneLineAndTheirExitCode() throws {
        let plan = try makePlan(["--bits", "4"])
        let cases: [([String], Int32, String)] = [
            (["--plan", plan, "--out", path("q.onnx"), "--order", "sideways"], 2, "hessian or all"),
            (["--plan", plan, "--out", path("q.onnx"), "--lr", "-1"], 2, "--lr"),
            (["--plan", plan, "--out", path("q.onnx"), "--epochs", "0"], 2, "--epochs"),
            (["--plan", plan, "--out", path("q.onnx"), "--order", "all", "--sensitivity", plan], 2, "--order hessian"),
            (["--plan", plan, "--out", path("q.onnx"), "--sensitivity", plan], 6, "missing field 'job'"),
            (["--out", path("q.onnx")], 2, "--plan"),
            (["--plan", plan, "--out", path("q.onnx"), "--order", "all", "--eigen"], 2, "--order hessian"),
            (["--plan", plan, "--out", path("q.onnx"), "--eigen", "--sensitivity", "Tests/Fixtures/export/digits_sensitivity.json"], 6, "top_eigenvalue"),
            (["--plan", path("missing.json"), "--out", path("q.onnx")], 3, "missing.json"),
            (["--plan", plan, "--out", path("q.onnx"), "--data", "Tests/Fixtures/mlp_ref.npz"], 5, "per-example shape"),
            (["--model", "Tests/Fixtures/mlp.onnx", "--data", "Tests/Fixtures/mlp_ref.npz", "--plan", plan, "--out", path("q.onnx")], 6, "made for model"),
        ]
        for (flags, status, text) in cases {
            let outcome = try HutchProcess.run(["finetune"] + flags)
            XCTAssertEqual(outcome.status, status, "\(flags): \(outcome.stderr)")
            XCTAssertEqual(outcome.stderr.split(separator: "\n").count, 1, outcome.stderr)
            XCTAssertTrue(outcome.stderr.contains(text), outcome.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: path("q.onnx")))
        }
    }
}
