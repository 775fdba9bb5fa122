import Foundation
import XCTest

/// `hutch trace` as a user runs it: the embedded example, sensitivity.json contents, determinism,
/// and one-line errors with their exit codes.
final class TraceCommandTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hutch-trace-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func fixture(_ name: String) -> String { HutchProcess.repositoryRoot.appendingPathComponent("Tests/Fixtures/\(name)").path }

    func json(_ path: URL) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: path)) as? [String: Any])
    }

    func testExactOnTheEmbeddedExample() throws {
        let out = directory.appendingPathComponent("sensitivity.json")
        let outcome = try HutchProcess.run(["trace", "--samples", "64", "--batch-size", "32", "--out", out.path])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("exact traces"), outcome.stderr)
        let report = try json(out)
        XCTAssertEqual(report["format"] as? String, "hutch.sensitivity")
        let job = try XCTUnwrap(report["job"] as? [String: Any])
        XCTAssertEqual(job["method"] as? String, "exact")
        XCTAssertEqual(job["samples"] as? Int, 64)
        XCTAssertEqual(job["batch_size"] as? Int, 32)
        XCTAssertTrue((job["model_digest"] as? String)?.hasPrefix("sha256:") ?? false)
        XCTAssertNil(job["data_digest"] as? String, "the embedded example has no data digest")
        let layers = try XCTUnwrap(report["layers"] as? [[String: Any]])
        XCTAssertEqual(layers.count, 7)
        for (i, layer) in layers.enumerated() {
            XCTAssertEqual(layer["index"] as? Int, i)
            XCTAssertEqual(layer["exact"] as? Bool, true)
            XCTAssertGreaterThan(layer["trace"] as? Double ?? -1, 0)
            let errors = try XCTUnwrap(layer["quantization_error"] as? [String: Double])
            XCTAssertEqual(Set(errors.keys), ["2", "3", "4", "5", "6", "8"])
        }
        let ties = layers.compactMap { $0["tie_group"] as? String }
        XCTAssertEqual(ties, ["/block2/Add", "/block2/Add"])
        let quantization = try XCTUnwrap(report["quantization"] as? [String: Any])
        XCTAssertEqual(quantization["scheme"] as? String, "symmetric_per_channel_minmax")
    }

    func testFindsTheExampleFromAnotherWorkingDirectory() throws {
        let out = directory.appendingPathComponent("s.json")
        let outcome = try HutchProcess.run(["trace", "--samples", "16", "--bits", "none", "--out", "s.json"], in: directory)
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssertNil(try json(out)["quantization"] as? [String: Any])
    }

    /// Exact mode (the example's 8x8 and 4x4 convolutions take the position-Gram norms) gives
    /// the same bytes with 1, 2 and 3 threads.
    func testExactIsIndependentOfThreads() throws {
        var outputs: [Data] = []
        for (i, threads) in ["1", "2", "3"].enumerated() {
            let out = directory.appendingPathComponent("e\(i).json")
            let outcome = try HutchProcess.run(["trace", "--method", "exact", "--samples", "40", "--batch-size", "16",
                                                "--bits", "none", "--threads", threads, "--out", out.path])
            XCTAssertEqual(outcome.status, 0, outcome.stderr)
            outputs.append(try Data(contentsOf: out))
        }
        XCTAssertEqual(outputs[0], outputs[1], "--threads changed the result")
        XCTAssertEqual(outputs[0], outputs[2], "--threads changed the result")
    }

    /// sensitivity.json of `hutch trace` with `flags`, once per (--threads, --probes-per-call) pair.
    func traces(_ flags: [String], threadsAndProbesPerCall pairs: [(String, String)]) throws -> [Data] {
        try pairs.enumerated().map { i, pair in
            let out = directory.appendingPathComponent("run\(i).json")
            let outcome = try HutchProcess.run(["trace"] + flags + ["--threads", pair.0, "--probes-per-call", pair.1, "--out", out.path])
            XCTAssertEqual(outcome.status, 0, outcome.stderr)
            return try Data(contentsOf: out)
        }
    }

    func testHutchinsonIsReproducibleAndIndependentOfThreads() throws {
        // threads, and probes per call (one call of 6, six of 1)
        let outputs = try traces(["--method", "hutchinson", "--mode", "layer", "--probes", "6", "--seed", "3", "--samples", "40",
                                  "--batch-size", "16", "--eigen"],
                                 threadsAndProbesPerCall: [("1", "4"), ("2", "4"), ("2", "4"), ("2", "6"), ("1", "1")])
        XCTAssertEqual(outputs[0], outputs[1], "--threads changed the result")
        XCTAssertEqual(outputs[1], outputs[2])
        XCTAssertEqual(outputs[1], outputs[3], "--probes-per-call changed the result")
        XCTAssertEqual(outputs[0], outputs[4], "--probes-per-call changed the result")
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: outputs[0]) as? [String: Any])
        let job = try XCTUnwrap(report["job"] as? [String: Any])
        XCTAssertEqual(job["method"] as? String, "hutchinson")
        XCTAssertEqual(job["mode"] as? String, "layer")
        XCTAssertEqual(job["seed"] as? Int, 3)
        for layer in try XCTUnwrap(report["layers"] as? [[String: Any]]) {
            XCTAssertEqual(layer["probes"] as? Int, 6)
            XCTAssertEqual(layer["exact"] as? Bool, false)
            XCTAssertNotNil(layer["standard_error"] as? Double)
            XCTAssertNotNil(layer["top_eigenvalue"] as? Double)
        }
    }

    func testTanhNetwork() throws {
        let out = directory.appendingPathComponent("t.json")
        let model = fixture("tanh_mlp.onnx"), data = fixture("tanh_mlp_ref.npz")
        let refused = try HutchProcess.run(["trace", "--model", model, "--data", data, "--method", "exact", "--out", out.path])
        XCTAssertEqual(refused.status, 4)
        XCTAssertEqual(refused.stderr.split(separator: "\n").filter { $0.hasPrefix("hutch: error:") }.count, 1, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("'/Tanh' (Tanh)"), refused.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))

        let auto = try HutchProcess.run(["trace", "--model", model, "--data", data, "--probes", "30", "--out", out.path])
        XCTAssertEqual(auto.status, 0, auto.stderr)
        XCTAssertTrue(auto.stderr.contains("Hutchinson, because exact traces do not apply"), auto.stderr)
        let report = try json(out)
        XCTAssertEqual((report["job"] as? [String: Any])?["method"] as? String, "hutchinson")
        XCTAssertTrue(((report["job"] as? [String: Any])?["data_digest"] as? String)?.hasPrefix("sha256:") ?? false)
    }

    /// --method ggn on the tanh network: the Gauss-Newton trace, which sensitivity.json says, the
    /// same bytes for any thread count or samples per call; --mode does not apply.
    func testGaussNewtonSaysWhatItMeasures() throws {
        let model = fixture("tanh_mlp.onnx"), data = fixture("tanh_mlp_ref.npz")
        let outputs = try traces(["--model", model, "--data", data, "--method", "ggn", "--probes", "7", "--seed", "2", "--batch-size", "5"],
                                 threadsAndProbesPerCall: [("1", "4"), ("2", "3"), ("2", "1")])
        XCTAssertEqual(outputs[0], outputs[1], "--threads or --probes-per-call changed the result")
        XCTAssertEqual(outputs[0], outputs[2], "--probes-per-call changed the result")
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: outputs[0]) as? [String: Any])
        let job = try XCTUnwrap(report["job"] as? [String: Any])
        XCTAssertEqual(job["method"] as? String, "ggn")
        XCTAssertEqual(job["curvature"] as? String, "gauss_newton")
        XCTAssertEqual(job["seed"] as? Int, 2)
        XCTAssertNil(job["mode"] as? String)
        for layer in try XCTUnwrap(report["layers"] as? [[String: Any]]) {
            XCTAssertEqual(layer["probes"] as? Int, 7)
            XCTAssertGreaterThan(try XCTUnwrap(layer["trace"] as? Double), 0)
        }
        let refused = try HutchProcess.run(["trace", "--model", model, "--data", data, "--method", "ggn", "--mode", "layer",
                                            "--out", directory.appendingPathComponent("r.json").path])
        XCTAssertEqual(refused.status, 2, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("--mode"), refused.stderr)
        let noMemory = try HutchProcess.run(["trace", "--memory", "0", "--out", directory.appendingPathComponent("m.json").path])
        XCTAssertEqual(noMemory.status, 2, noMemory.stderr)
        XCTAssertTrue(noMemory.stderr.contains("--memory"), noMemory.stderr)
    }

    func testNpyInputsAndLabelsGiveTheSameTracesAsTheNpz() throws {
        let npy = directory.appendingPathComponent("npy.json"), npz = directory.appendingPathComponent("npz.json")
        let a = try HutchProcess.run(["trace", "--model", fixture("mlp.onnx"), "--inputs", fixture("sensitivity/mlp_x.npy"),
                                      "--labels", fixture("sensitivity/mlp_y.npy"), "--samples", "5", "--out", npy.path])
        XCTAssertEqual(a.status, 0, a.stderr)
        let b = try HutchProcess.run(["trace", "--model", fixture("mlp.onnx"), "--data", fixture("mlp_ref.npz"),
                                      "--samples", "5", "--out", npz.path])
        XCTAssertEqual(b.status, 0, b.stderr)
        let (ja, jb) = (try json(npy), try json(npz))
        XCTAssertEqual((ja["job"] as? [String: Any])?["samples"] as? Int, 5)
        let traces = { (j: [String: Any]) in (j["layers"] as? [[String: Any]] ?? []).compactMap { $0["trace"] as? Double } }
        XCTAssertEqual(traces(ja).count, 3)
        XCTAssertEqual(traces(ja), traces(jb))
    }

    func testBadInputsGiveOneLineAndTheirExitCode() throws {
        let out = directory.appendingPathComponent("bad.json").path
        let cases: [([String], Int32, String)] = [
            (["--out", out, "--method", "bogus"], 2, "--method"),
            (["--out", out, "--method", "exact", "--probes", "10"], 2, "--probes"),
            (["--out", out, "--probes", "10", "--tol", "0.1"], 2, "either --probes"),
            (["--out", out, "--probes-per-call", "0"], 2, "--probes-per-call"),
            (["--out", out, "--method", "exact", "--probes-per-call", "8"], 2, "--probes-per-call"),
            (["--out", out, "--bits", "0,4"], 2, "--bits"),
            (["--out", out, "--samples", "0"], 2, "--samples"),
            (["--out", out, "--model", fixture("mlp.onnx")], 2, "--data"),
            (["--out", out, "--inputs", "x.npy"], 2, "--labels"),
            (["--method", "exact"], 2, "--out"),
            (["--out", out, "--data", fixture("missing.npz")], 3, "missing.npz"),
            (["--out", out, "--model", fixture("missing.onnx"), "--data", fixture("mlp_ref.npz")], 3, "missing.onnx"),
            // mlp data (1x4x4) against the digits model (1x8x8)
            (["--out", out, "--data", fixture("mlp_ref.npz")], 5, "per-example shape"),
            (["--out", out, "--model", fixture("unsupported_ops.onnx"), "--data", fixture("mlp_ref.npz")], 4, "CumSum"),
            (["--out", directory.appendingPathComponent("no/such/dir/s.json").path, "--samples", "8"], 3, "cannot write"),
        ]
        for (arguments, status, needle) in cases {
            let outcome = try HutchProcess.run(["trace"] + arguments)
            XCTAssertEqual(outcome.status, status, "\(arguments): \(outcome.stderr)")
            let errorLines = outcome.stderr.split(separator: "\n").filter { $0.hasPrefix("hutch: error:") }
            XCTAssertEqual(errorLines.count, 1, "\(arguments): \(outcome.stderr)")
            XCTAssertTrue(outcome.stderr.contains(needle), "\(arguments): \(outcome.stderr)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }
}
