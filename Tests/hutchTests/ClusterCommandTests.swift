import Foundation
import HutchModel
import XCTest

/// `hutch run`, `hutch coordinator` and `hutch worker` as real processes on loopback: the output
/// is byte-identical to `hutch trace` with the same flags, whatever the workers do.
final class ClusterCommandTests: ProcessTestCase {
    func trace(_ flags: [String]) throws -> Data {
        let out = directory.appendingPathComponent("trace-\(UUID().uuidString).json")
        let outcome = try HutchProcess.run(["trace"] + flags + ["--out", out.path])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        return try Data(contentsOf: out)
    }

    func runCluster(_ flags: [String], workers: Int) throws -> Data? {
        let out = directory.appendingPathComponent("run-\(workers)-\(UUID().uuidString)")
        let process = try start(["run", "--workers", String(workers), "--threads", "1"] + flags + ["--out", out.path], log: "run\(workers)")
        guard let status = wait(process, 120, "hutch run --workers \(workers)") else { return nil }
        XCTAssertEqual(status, 0, stderr("run\(workers)"))
        return try? Data(contentsOf: out.appendingPathComponent("sensitivity.json"))
    }

    func testRunWithOneTwoAndFourWorkersMatchesTraceExactly() throws {
        let flags = ["--samples", "64", "--batch-size", "16"]
        let reference = try trace(flags)
        for workers in [1, 2, 4] {
            let data = try runCluster(flags, workers: workers)
            XCTAssertEqual(data, reference, "\(workers) worker(s): sensitivity.json differs from hutch trace")
            XCTAssertTrue(stderr("run\(workers)").contains("joined"), stderr("run\(workers)"))
        }
    }

    func testRunHutchinsonAdaptiveRoundsMatchTrace() throws {
        let flags = ["--method", "hutchinson", "--mode", "layer", "--tol", "0.3", "--max-probes", "16", "--samples", "48",
                     "--batch-size", "16", "--seed", "3", "--bits", "2,4,8"]
        let reference = try trace(flags)
        XCTAssertEqual(try runCluster(flags, workers: 2), reference)
        XCTAssertTrue(stderr("run2").contains("round 2"), "the adaptive rule asked for a second round: \(stderr("run2"))")
    }

    /// The sampled GGN's adaptive rounds over two workers: the bytes of hutch trace.
    func testRunGaussNewtonMatchesTrace() throws {
        let flags = ["--method", "ggn", "--tol", "0.01", "--max-probes", "20", "--samples", "48", "--batch-size", "16",
                     "--seed", "5", "--bits", "4,8"]
        let reference = try trace(flags)
        XCTAssertEqual(try runCluster(flags, workers: 2), reference)
        XCTAssertTrue(stderr("run2").contains("round 2"), "the adaptive rule asked for a second round: \(stderr("run2"))")
        XCTAssertTrue(String(decoding: reference, as: UTF8.self).contains("\"curvature\" : \"hessian\""))
    }

    /// --eigen and the quantization errors are tasks too: still the same bytes as hutch trace.
    func testRunWithEigenvaluesMatchesTrace() throws {
        let flags = ["--method", "hutchinson", "--probes", "8", "--samples", "32", "--batch-size", "16", "--eigen", "--bits", "3,4"]
        let reference = try trace(flags)
        XCTAssertEqual(try runCluster(flags, workers: 2), reference)
        XCTAssertTrue(String(decoding: reference, as: UTF8.self).contains("top_eigenvalue"))
    }

    /// A worker stopped (SIGSTOP, longer than the liveness window) and then killed (SIGKILL) while
    /// it holds leases: they expire and another worker redoes them; the output does not change.
    func testWorkerKilledMidRunDoesNotChangeTheResult() throws {
        let flags = ["--method", "hutchinson", "--mode", "layer", "--probes", "24", "--samples", "64", "--batch-size", "16"]
        let reference = try trace(flags)
        let out = directory.appendingPathComponent("coordinated")
        let coordinator = try start(["coordinator", "--bind", "tcp://127.0.0.1:*", "--workers", "2"] + flags + ["--state", out.path],
                                    log: "coordinator")
        guard let endpoint = announcedEndpoint() else { return }
        let victim = try start(["worker", "--connect", endpoint, "--name", "victim", "--threads", "1"], log: "victim")
        XCTAssertTrue(eventually(30) { stderr("coordinator").contains("victim joined") }, stderr("coordinator"))
        // Freeze it the moment it joined: the tasks the coordinator leased to it on its HELLO stay
        // leased to a worker that computes nothing (however fast the build), then kill it for good.
        kill(victim.processIdentifier, SIGSTOP)
        XCTAssertTrue(eventually(30) { stderr("coordinator").contains("victim expired") }, stderr("coordinator"))
        kill(victim.processIdentifier, SIGKILL)
        victim.waitUntilExit()
        let survivor = try start(["worker", "--connect", endpoint, "--name", "survivor", "--threads", "1"], log: "survivor")
        let status = wait(coordinator, 120, "the coordinator")
        XCTAssertEqual(status, 0, stderr("coordinator"))
        XCTAssertEqual(wait(survivor, 10, "the survivor"), 0, stderr("survivor"))
        let expiry = stderr("coordinator").split(separator: "\n").first { $0.contains("worker victim expired;") }
        XCTAssertTrue(expiry.map { $0.contains("lease(s) re-queued") && !$0.contains(" 0 lease(s)") } ?? false,
                      "the victim held leases when it died: \(stderr("coordinator"))")
        XCTAssertEqual(try? Data(contentsOf: out.appendingPathComponent("sensitivity.json")), reference)
    }

    /// `hutch status` against a coordinator that waits for workers, then a worker that joins
    /// late finishes the job.
    func testStatusAndALateWorker() throws {
        let flags = ["--method", "hutchinson", "--probes", "8", "--samples", "32", "--batch-size", "16"]
        let reference = try trace(flags)
        let out = directory.appendingPathComponent("status-job")
        let coordinator = try start(["coordinator", "--bind", "tcp://127.0.0.1:*"] + flags + ["--state", out.path], log: "coordinator")
        guard let endpoint = announcedEndpoint() else { return }
        let status = try HutchProcess.run(["status", "--connect", endpoint, "--json"])
        XCTAssertEqual(status.status, 0, status.stderr)
        let doc = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(doc["phase"] as? String, "sensitivity")
        XCTAssertGreaterThan(doc["tasks_queued"] as? Int ?? 0, 0)
        XCTAssertEqual((doc["workers"] as? [Any])?.count, 0)
        let human = try HutchProcess.run(["status", "--connect", endpoint])
        XCTAssertTrue(human.stdout.contains("queued"), human.stdout)
        XCTAssertNil(doc["eta_seconds"], "no ETA before the first result")
        XCTAssertTrue(human.stdout.contains("ETA unknown"), human.stdout)
        let worker = try start(["worker", "--connect", endpoint, "--threads", "1"], log: "worker")
        XCTAssertEqual(wait(coordinator, 120, "the coordinator"), 0, stderr("coordinator"))
        XCTAssertEqual(wait(worker, 10, "the worker"), 0, stderr("worker"))
        XCTAssertEqual(try? Data(contentsOf: out.appendingPathComponent("sensitivity.json")), reference)
        let gone = try HutchProcess.run(["status", "--connect", endpoint, "--timeout", "0.3"])
        XCTAssertEqual(gone.status, 3, "no coordinator: an I/O error")
    }

    /// With a budget flag, `hutch run` also solves the plan and quantizes the layers on the
    /// workers: plan.json and quantized.onnx equal `hutch plan` and `hutch quantize` outputs.
    func testRunWithABudgetWritesThePlanAndTheQuantizedModelOfPlanAndQuantize() throws {
        let out = directory.appendingPathComponent("full")
        let process = try start(["run", "--workers", "2", "--threads", "1", "--samples", "64", "--batch-size", "16",
                                 "--avg-bits", "5", "--out", out.path], log: "full")
        XCTAssertEqual(wait(process, 120, "hutch run with a budget"), 0, stderr("full"))
        XCTAssertTrue(stderr("full").contains("quantize: 7 layer tasks"), stderr("full"))
        // progress lines (not a terminal: the first one, then one every 10 s) count the phase's
        // tasks out of its total and give no rate before there is one
        let progress = stderr("full").split(separator: "\n").filter { $0.contains("tasks done") || $0.contains("tasks/s") }
        XCTAssertFalse(progress.isEmpty, stderr("full"))
        for line in progress {
            XCTAssertNotNil(line.range(of: #"coordinator: (sensitivity|quantize): \d+ of \d+ tasks? done, \d+ on workers, \d+ waiting; "#,
                                       options: .regularExpression), String(line))
            XCTAssertFalse(line.contains(" 0.0 tasks/s") || line.contains(" 0.00 tasks/s"), String(line))
        }
        let plan = directory.appendingPathComponent("plan.json"), onnx = directory.appendingPathComponent("q.onnx")
        let planned = try HutchProcess.run(["plan", "--sensitivity", out.appendingPathComponent("sensitivity.json").path,
                                            "--avg-bits", "5", "--out", plan.path])
        XCTAssertEqual(planned.status, 0, planned.stderr)
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("plan.json")), try Data(contentsOf: plan))
        let quantized = try HutchProcess.run(["quantize", "--model", "Examples/digits_resnet.onnx", "--plan", plan.path,
                                              "--data", "Examples/digits.npz", "--out", onnx.path])
        XCTAssertEqual(quantized.status, 0, quantized.stderr)
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("quantized.onnx")), try Data(contentsOf: onnx))
    }

    /// A transformer on token ids (tiny_bert: embedding lookup, softmax attention, LayerNorm,
    /// GELU; Hutchinson, since it is not piecewise linear) through the whole cluster job: the
    /// same sensitivity.json as hutch trace, the plan of hutch plan and the model of hutch quantize.
    func testRunOnATokenIDTransformerMatchesTracePlanAndQuantize() throws {
        try checkRunMatchesTracePlanAndQuantize(model: "Tests/Fixtures/tiny_bert.onnx", data: "Tests/Fixtures/tiny_bert_ref.npz", name: "bert")
    }

    /// The same for a model with two inputs (input_ids and attention_mask, matched by name in the
    /// .npz) and for a GPT-2-style language model (labels [N, T] with -100: loss token-ce).
    func testRunOnTwoInputsAndOnALanguageModelMatchesTracePlanAndQuantize() throws {
        let reference = try NumPyArchive.readNPZ(contentsOf: HutchProcess.repositoryRoot.appendingPathComponent("Tests/Fixtures/tiny_bert_mask_ref.npz"))
        let named = directory.appendingPathComponent("bert-mask.npz")
        try NumPyArchive.writeNPZ(try ["input_ids", "attention_mask", "y"].map { ($0, try XCTUnwrap(reference[$0])) }, to: named)
        try checkRunMatchesTracePlanAndQuantize(model: "Tests/Fixtures/tiny_bert_mask.onnx", data: named.path, name: "bert-mask")
        try checkRunMatchesTracePlanAndQuantize(model: "Tests/Fixtures/tiny_gpt2.onnx", data: "Tests/Fixtures/tiny_gpt2_ref.npz", name: "gpt2")
    }

    /// An embedding classifier (tiny_embed: its token table is a quantizable layer, piecewise
    /// linear, so exact traces with per-example norms of the table on the workers).
    func testRunOnAnEmbeddingClassifierMatchesTracePlanAndQuantize() throws {
        try checkRunMatchesTracePlanAndQuantize(model: "Tests/Fixtures/tiny_embed.onnx", data: "Tests/Fixtures/tiny_embed_ref.npz", name: "embed")
    }

    /// --loss travels to the workers and into job.json; the outputs are those of hutch trace --loss.
    func testRunWithALossFlagMatchesTraceWithIt() throws {
        try checkRunMatchesTracePlanAndQuantize(model: "Tests/Fixtures/tiny_gpt2.onnx", data: "Tests/Fixtures/tiny_gpt2_ref.npz", name: "gpt2-loss",
                                                loss: ["--loss", "token-ce"])
        let job = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("gpt2-loss/job.json"))) as? [String: Any])
        XCTAssertEqual((job["job"] as? [String: Any])?["loss"] as? String, "token-ce")
    }

    private func checkRunMatchesTracePlanAndQuantize(model: String, data: String, name: String, loss: [String] = []) throws {
        let flags = ["--model", model, "--data", data, "--probes", "8", "--batch-size", "4"] + loss
        let reference = try trace(flags)
        let out = directory.appendingPathComponent(name)
        let process = try start(["run", "--workers", "2", "--threads", "1"] + flags + ["--avg-bits", "4", "--out", out.path], log: name)
        XCTAssertEqual(wait(process, 120, "hutch run on \(model)"), 0, stderr(name))
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("sensitivity.json")), reference)
        let plan = directory.appendingPathComponent("\(name)-plan.json"), onnx = directory.appendingPathComponent("\(name)-q.onnx")
        let planned = try HutchProcess.run(["plan", "--sensitivity", out.appendingPathComponent("sensitivity.json").path,
                                            "--avg-bits", "4", "--out", plan.path])
        XCTAssertEqual(planned.status, 0, planned.stderr)
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("plan.json")), try Data(contentsOf: plan))
        let quantized = try HutchProcess.run(["quantize", "--model", model, "--plan", plan.path, "--data", data, "--out", onnx.path] + loss)
        XCTAssertEqual(quantized.status, 0, quantized.stderr)
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("quantized.onnx")), try Data(contentsOf: onnx))
    }

    /// Workers with --fetch-blobs never read the coordinator's files: they are deleted before
    /// the worker starts, and the result is still identical. With --cache, the blobs stay there
    /// by digest (no partial file) and a second worker (a later job on the same files) fetches nothing.
    func testWorkerFetchesModelAndDataByDigestAndCachesThem() throws {
        let flags = ["--samples", "48", "--batch-size", "16"]
        let reference = try trace(flags)
        let cache = directory.appendingPathComponent("cache")
        for round in 1...2 {
            let inputs = directory.appendingPathComponent("inputs")
            try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
            for name in ["digits_resnet.onnx", "digits.npz"] {
                try FileManager.default.copyItem(at: HutchProcess.repositoryRoot.appendingPathComponent("Examples/\(name)"),
                                                 to: inputs.appendingPathComponent(name))
            }
            let out = directory.appendingPathComponent("fetched\(round)")
            let log = "coordinator\(round)", workerLog = "worker\(round)"
            let coordinator = try start(["coordinator", "--bind", "tcp://127.0.0.1:*", "--model", inputs.appendingPathComponent("digits_resnet.onnx").path,
                                         "--data", inputs.appendingPathComponent("digits.npz").path] + flags + ["--state", out.path], log: log)
            guard let endpoint = announcedEndpoint(log) else { return }
            try FileManager.default.removeItem(at: inputs)
            let worker = try start(["worker", "--connect", endpoint, "--fetch-blobs", "--cache", cache.path, "--threads", "1"], log: workerLog)
            XCTAssertEqual(wait(coordinator, 120, "the coordinator"), 0, stderr(log) + stderr(workerLog))
            XCTAssertEqual(wait(worker, 10, "the worker"), 0, stderr(workerLog))
            // the same traces as hutch trace (the embedded example's data digest is omitted there)
            let got = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("sensitivity.json"))) as? [String: Any]
            let want = try JSONSerialization.jsonObject(with: reference) as? [String: Any]
            XCTAssertEqual((got?["layers"] as? [[String: Any]])?.compactMap { $0["trace"] as? Double },
                           (want?["layers"] as? [[String: Any]])?.compactMap { $0["trace"] as? Double })
            XCTAssertFalse(stderr(workerLog).contains("cannot load"), stderr(workerLog))
            let fetches = stderr(workerLog).components(separatedBy: "fetched blob").count - 1
            XCTAssertEqual(fetches, round == 1 ? 2 : 0, "round \(round): \(stderr(workerLog))")
            // the cache holds exactly the two files, verified and named by their digests
            let names = Set(try ["digits_resnet.onnx", "digits.npz"].map {
                String(Digest.sha256(try Data(contentsOf: HutchProcess.repositoryRoot.appendingPathComponent("Examples/\($0)"))).dropFirst("sha256:".count))
            })
            XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: cache.path)), names)
        }
    }

    /// Live children of `pid` (from /proc; zombies count as gone).
    func children(of pid: pid_t) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { child in
            guard let stat = try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 2 && fields[0] != "Z" && Int32(fields[1]) == pid
        }
    }

    func alive(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return !stat[stat.index(after: close)...].hasPrefix(" Z")
    }

    /// Local workers whose `hutch run` is killed exit instead of reconnecting forever; a
    /// `hutch run` whose workers all died fails with exit code 8 instead of waiting forever.
    func testLocalWorkersDoNotOutliveRunAndRunNoticesDeadWorkers() throws {
        let flags = ["--method", "hutchinson", "--probes", "2000", "--samples", "64", "--batch-size", "16"]  // long enough to kill mid-run
        let first = try start(["run", "--workers", "2", "--threads", "1"] + flags + ["--out", directory.appendingPathComponent("a").path], log: "a")
        var workers: [pid_t] = []
        XCTAssertTrue(eventually(30) { workers = children(of: first.processIdentifier); return workers.count == 2 })
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        XCTAssertTrue(eventually(10) { !workers.contains(where: alive) }, "orphaned workers still running")
        for w in workers where alive(w) { kill(w, SIGKILL) }

        let second = try start(["run", "--workers", "2", "--threads", "1"] + flags + ["--out", directory.appendingPathComponent("b").path], log: "b")
        XCTAssertTrue(eventually(30) { workers = children(of: second.processIdentifier); return workers.count == 2 })
        for w in workers { kill(w, SIGKILL) }
        XCTAssertEqual(wait(second, 20, "hutch run with dead workers"), 8, stderr("b"))
        XCTAssertTrue(stderr("b").contains("exited"), stderr("b"))
    }

    /// SIGTERM stops the coordinator cleanly: it syncs its journal, tells its workers (DISCONNECT
    /// shutdown) and exits with code 10; the worker keeps waiting for a coordinator to come back.
    func testCoordinatorInterruptedTellsItsWorkers() throws {
        let flags = ["--method", "hutchinson", "--probes", "5000", "--samples", "64", "--batch-size", "16"]  // long enough to interrupt
        let coordinator = try start(["coordinator", "--bind", "tcp://127.0.0.1:*"] + flags + ["--state", directory.appendingPathComponent("x").path],
                                    log: "coordinator")
        guard let endpoint = announcedEndpoint() else { return }
        let worker = try start(["worker", "--connect", endpoint, "--name", "patient", "--threads", "1"], log: "worker")
        XCTAssertTrue(eventually(30) { stderr("coordinator").contains("patient joined") }, stderr("coordinator"))
        kill(coordinator.processIdentifier, SIGTERM)
        XCTAssertEqual(wait(coordinator, 20, "the interrupted coordinator"), 10, stderr("coordinator"))
        XCTAssertTrue(stderr("coordinator").contains("interrupted by signal"), stderr("coordinator"))
        XCTAssertTrue(stderr("coordinator").contains("run the same command again to resume"), stderr("coordinator"))
        XCTAssertTrue(eventually(10) { stderr("worker").contains("coordinator shut down") }, stderr("worker"))
        XCTAssertTrue(worker.isRunning, "a worker outlives a coordinator that may come back")
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("x/sensitivity.json").path))
    }

    func testNonLoopbackBindNeedsInsecure() throws {
        let outcome = try HutchProcess.run(["coordinator", "--bind", "tcp://0.0.0.0:5999", "--state", directory.path])
        XCTAssertEqual(outcome.status, 2)
        XCTAssertTrue(outcome.stderr.contains("--insecure"), outcome.stderr)
        XCTAssertEqual(outcome.stderr.split(separator: "\n").count, 1, "one line: \(outcome.stderr)")
        let bad = try HutchProcess.run(["worker", "--connect", "localhost:5999"])
        XCTAssertEqual(bad.status, 2, bad.stderr)
    }
}
