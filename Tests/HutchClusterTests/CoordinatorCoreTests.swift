import HutchClusterCore
import HutchModel
import HutchQuantize
import HutchSensitivity
import HutchWire
import XCTest

/// The sans-IO coordinator and workers under a fake clock and network: the result equals the
/// one-process SensitivityAnalysis bit for bit, whatever the workers do.
final class CoordinatorCoreTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    struct Setup {
        var runner: TaskRunner
        var inputs: SimulationInputs
        var options: TraceOptions
        var reference: SensitivityResult
    }

    /// mlp (ReLU: exact) or tanh_mlp (Hutchinson, adaptive rounds), 12 examples in batches of 4.
    func setup(_ name: String, hutchinson: Bool) throws -> Setup {
        let f = try SimulationFixtures.fixture(name, hutchinson: hutchinson)
        return Setup(runner: f.runner, inputs: f.inputs, options: f.options, reference: f.reference)
    }

    func assertMatches(_ sim: Simulation, _ setup: Setup, file: StaticString = #filePath, line: UInt = #line) {
        guard case .sensitivity(let estimates)? = sim.outcome else {
            return XCTFail("no result: \(String(describing: sim.outcome)); log: \(sim.logs.suffix(10))", file: file, line: line)
        }
        XCTAssertEqual(estimates.count, setup.reference.layers.count, file: file, line: line)
        for (e, r) in zip(estimates, setup.reference.layers) {
            XCTAssertEqual(e.trace.bitPattern, r.trace.bitPattern, "layer \(r.index) trace \(e.trace) vs \(r.trace)", file: file, line: line)
            XCTAssertEqual(e.standardError?.bitPattern, r.standardError?.bitPattern, "layer \(r.index) s.e.", file: file, line: line)
            XCTAssertEqual(e.probes, r.probes, "layer \(r.index) probes", file: file, line: line)
        }
    }

    func testOneWorkerExact() throws {
        let s = try setup("mlp", hutchinson: false)
        var sim = Simulation(inputs: s.inputs, options: s.options, workers: 1)
        sim.addWorker()
        sim.run()
        assertMatches(sim, s)
        XCTAssertEqual(sim.workers[0].exited, .some(nil), "the worker is told the job is complete")
    }

    func testSeveralWorkersHutchinsonAdaptive() throws {
        let s = try setup("tanh_mlp", hutchinson: true)
        XCTAssertGreaterThan(s.reference.layers.compactMap(\.probes).max() ?? 0, 4, "the reference needs more than one round")
        var sim = Simulation(inputs: s.inputs, options: s.options, workers: 3)
        for c in [20, 35, 50] as [UInt64] { sim.addWorker(computeMs: c) }
        sim.run()
        assertMatches(sim, s)
        XCTAssertGreaterThan(sim.coordinator.round, 1)
        XCTAssertTrue(sim.workers.allSatisfy { $0.core.completed > 0 }, "every worker got work")
        // STATUS: per-layer convergence and per-worker counts
        let replies = sim.coordinator.handle(.message(peer: [9], .statusRequest), now: sim.now)
        guard case .send(_, .status(let report))? = replies.first else { return XCTFail("no STATUS: \(replies)") }
        let doc = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(report.json.utf8)) as? [String: Any])
        let layers = try XCTUnwrap(doc["layers"] as? [[String: Any]])
        XCTAssertEqual(layers.compactMap { $0["probes"] as? Int }, s.reference.layers.compactMap(\.probes))
        XCTAssertEqual(doc["phase"] as? String, "finished")
    }

    /// tanh_mlp, layer mode, 12 examples in batches of 4: a round of 4 probes per layer in chunks
    /// of 2 has layers × 2 × 3 cells.
    func testScheduleCutsByCostAndTheResultIsTheSame() throws {
        let s = try setup("tanh_mlp", hutchinson: true)
        let cells = s.runner.job.layerCount * 2 * 3
        for (macs, expected) in [(1, 4), (Int(1e12), cells)] {
            var sim = Simulation(inputs: s.inputs, options: s.options, workers: 2, tasksPerWorker: nil, macsPerExample: macs)
            for c in [20, 35] as [UInt64] { sim.addWorker(computeMs: c) }
            var logs: [String] = []
            for case .log(let line) in sim.coordinator.handle(.tick, now: 0) { logs.append(line) }
            XCTAssertEqual(sim.coordinator.schedule.targetTasks, expected, "MACs \(macs)")
            XCTAssertTrue(logs.contains { $0.hasPrefix("sensitivity round 1: \(max(expected, s.runner.job.layerCount * 2)) trace task(s)") },
                          "MACs \(macs): \(logs)")
            sim.run()
            assertMatches(sim, s)
        }
    }

    /// ETA from the coordinator's own throughput under the fake clock: unknown before the first
    /// result, (leased + queued) / (tasks done per second of the phase) after, 0 at the end.
    func testStatusETAFromThroughput() throws {
        let s = try setup("mlp", hutchinson: false)
        var sim = Simulation(inputs: s.inputs, options: s.options, workers: 1, tasksPerWorker: 8)
        sim.addWorker(computeMs: 100)
        func status(_ now: UInt64) throws -> [String: Any] {
            var core = sim.coordinator
            let reports = core.handle(.message(peer: [9], .statusRequest), now: now).compactMap {
                if case .send(_, .status(let report)) = $0 { report } else { nil }
            }
            guard let report = reports.first else { throw SimError() }
            return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(report.json.utf8)) as? [String: Any])
        }
        XCTAssertNil(try status(0)["eta_seconds"], "unknown before the job starts")
        var limit: UInt64 = 10
        sim.run(limitMs: limit)
        XCTAssertEqual(sim.coordinator.tasksDone, 0)
        XCTAssertNil(sim.coordinator.etaSeconds(now: sim.now), "unknown before the first result")
        XCTAssertNil(try status(sim.now)["eta_seconds"])
        while sim.coordinator.tasksDone == 0 && limit < 10_000 { limit += 10; sim.run(limitMs: limit) }
        let done = sim.coordinator.tasksDone, left = sim.coordinator.tasksLeased + sim.coordinator.tasksQueued
        XCTAssertGreaterThan(done, 0)
        XCTAssertGreaterThan(left, 0, "the job is not over after its first result")
        let eta = try XCTUnwrap(sim.coordinator.etaSeconds(now: sim.now))
        // from the first lease (after the worker's HELLO crossed the network), not from time 0
        let start = try XCTUnwrap(sim.coordinator.phaseStartMs)
        XCTAssertEqual(start, sim.latencyMs)
        XCTAssertEqual(eta, Double(left) / (Double(done) / (Double(sim.now - start) / 1000)), accuracy: 1e-9)
        XCTAssertEqual(try status(sim.now)["eta_seconds"] as? Double, (eta * 10).rounded() / 10)
        // no progress for a while: the throughput falls, the ETA grows
        XCTAssertGreaterThan(try XCTUnwrap(sim.coordinator.etaSeconds(now: sim.now + 5000)), eta)
        sim.run()
        assertMatches(sim, s)
        XCTAssertEqual(sim.coordinator.etaSeconds(now: sim.now), 0)
        XCTAssertEqual(try status(sim.now)["eta_seconds"] as? Double, 0)
    }

    func testWorkerDiesMidTaskLeasesReturn() throws {
        let s = try setup("tanh_mlp", hutchinson: true)
        var sim = Simulation(inputs: s.inputs, options: s.options, workers: 2)
        sim.addWorker(computeMs: 40)
        sim.addWorker(computeMs: 40)
        sim.workers[1].dieAt = 50   // holds leases, never answers
        sim.run()
        assertMatches(sim, s)
        XCTAssertTrue(sim.logs.contains { $0.contains("expired") }, "the dead worker expires")
    }

    func testLeaseExpiryRequeuesAndTheLateResultIsADuplicate() throws {
        let s = try setup("mlp", hutchinson: false)
        let spec = SensitivityWorkSpec(job: s.runner.job, source: ModelSource(modelPath: "m"), probesPerCall: 2)
        var config = CoordinatorConfig(epoch: 1)
        config.leaseMs = 1000
        config.heartbeatMs = 100_000   // no liveness expiry in this test, only the lease
        var core = CoordinatorCore(config: config, spec: spec, options: s.options, workers: 1, tasksPerWorker: 1)
        let slow: [UInt8] = [1], fast: [UInt8] = [2]
        func tasks(_ a: [CoordinatorAction], to peer: [UInt8]) -> [TaskAssignment] {
            a.compactMap { if case .send(peer, .task(let t)) = $0 { t } else { nil } }
        }
        func hello(_ instance: UInt64) -> WireMessage {
            .hello(Hello(capabilities: [.sensitivity], instance: instance, name: "w\(instance)", threads: 1, credit: 1))
        }
        let first = tasks(core.handle(.message(peer: slow, hello(1)), now: 0), to: slow)
        XCTAssertEqual(first.count, 1)
        XCTAssertTrue(tasks(core.handle(.message(peer: fast, hello(2)), now: 10), to: fast).count <= 1)
        // the slow worker's lease ends at 1000: its task is leased again to the fast one
        let t = first[0]
        var again: [TaskAssignment] = []
        var now: UInt64 = 1000
        var leased = core.handle(.tick, now: now)
        // give the fast worker slots until it receives the expired task
        while again.isEmpty && now < 20_000 {
            now += 10
            again = tasks(leased, to: fast).filter { $0.taskID == t.taskID }
            for other in tasks(leased, to: fast) where other.taskID != t.taskID {
                let (task, _) = try SensitivityBodies.decodeTask(other.body)
                let r = try s.runner.run(task)
                _ = core.handle(.message(peer: fast, .result(WireTaskResult(taskID: other.taskID, leaseID: other.leaseID, kind: .sensitivity,
                    body: SensitivityBodies.resultBody(task, exampleCounts: r.exampleCounts), values: r.values))), now: now)
            }
            leased = core.handle(.message(peer: fast, .credit(Credit(credit: 1))), now: now)
        }
        XCTAssertEqual(again.count, 1, "the expired task is leased again")
        XCTAssertNotEqual(again.first?.leaseID, t.leaseID, "under a new lease")
        let (task, _) = try SensitivityBodies.decodeTask(t.body)
        let r = try s.runner.run(task)
        func result(_ a: TaskAssignment) -> WireMessage {
            .result(WireTaskResult(taskID: a.taskID, leaseID: a.leaseID, kind: .sensitivity,
                                   body: SensitivityBodies.resultBody(task, exampleCounts: r.exampleCounts), values: r.values))
        }
        let done = core.tasksDone
        _ = core.handle(.message(peer: fast, result(again[0])), now: now + 1)
        XCTAssertEqual(core.tasksDone, done + 1)
        _ = core.handle(.message(peer: slow, result(t)), now: now + 2)
        XCTAssertEqual(core.tasksDone, done + 1)
        XCTAssertEqual(core.duplicates, 1, "the late result of the expired lease is a duplicate")
    }

    func testLateJoin() throws {
        let s = try setup("tanh_mlp", hutchinson: true)
        var sim = Simulation(inputs: s.inputs, options: s.options, workers: 2)
        sim.addWorker(computeMs: 30)
        sim.joinLater = [(at: 200, computeMs: 10, name: nil)]
        sim.run()
        assertMatches(sim, s)
        XCTAssertEqual(sim.workers.count, 2)
        XCTAssertGreaterThan(sim.workers[1].core.completed, 0, "the late worker took tasks")
    }

    func testPoisonTaskFailsTheJobWithAReport() throws {
        let s = try setup("mlp", hutchinson: false)
        var sim = Simulation(inputs: s.inputs, options: s.options, workers: 2)
        sim.addWorker()
        sim.addWorker()
        sim.workers[0].poison = true
        sim.workers[1].poison = true
        sim.run(limitMs: 60_000)
        guard case .failed(let why)? = sim.outcome else { return XCTFail("expected failure, got \(String(describing: sim.outcome))") }
        XCTAssertTrue(why.contains("out of memory (simulated)"), why)
        XCTAssertTrue(why.contains("poison"), why)
    }

    func testWorkerSendingInvalidResultsIsSentAwayAndTheJobFinishes() throws {
        let s = try setup("mlp", hutchinson: false)
        var sim = Simulation(inputs: s.inputs, options: s.options, workers: 2)
        sim.addWorker(computeMs: 5)
        sim.addWorker(computeMs: 60)
        sim.workers[0].corrupt = true   // a value short: invalid results, strikes, then sent away
        sim.run()
        assertMatches(sim, s)
        guard case .some(.some(let why)) = sim.workers[0].exited else { return XCTFail("the corrupt worker was not sent away") }
        XCTAssertTrue(why.contains("rejected"), why)
    }

    /// Sensitivity, then one quantize task per layer: a worker dies during the quantize phase
    /// and the layers still equal the one-process quantizer's, bit for bit.
    /// mlp with a quantize phase (widths 4, 8, 3, ...), two workers, run past its sensitivity phase.
    /// `stopAtPhaseEnd`: stop as soon as the sensitivity phase is complete (quantize tasks just leased).
    func quantizeSimulation(inlineResultBytes: Int? = nil, stopAtPhaseEnd: Bool = false) throws -> (Simulation, Graph, [Int], Setup) {
        let s = try setup("mlp", hutchinson: false)
        let graph = try ONNXLoader.load(contentsOf: Self.root.appendingPathComponent("Tests/Fixtures/mlp.onnx"))
        let bits = graph.quantizableLayers.indices.map { [4, 8, 3][$0 % 3] }
        var sim = Simulation(inputs: s.inputs, options: s.options, workers: 2, quantizeFollows: true)
        sim.graph = graph
        sim.quantize = QuantizeWorkSpec(modelPath: SimulationInputs.modelPath, weightBits: bits)
        sim.inlineResultBytes = inlineResultBytes
        sim.addWorker(computeMs: 20)
        sim.addWorker(computeMs: 20)
        if stopAtPhaseEnd {
            while sim.estimates == nil && sim.now < 100 { sim.run(limitMs: sim.now + 1) }
        } else {
            sim.run(limitMs: 100)
        }
        XCTAssertNotNil(sim.estimates, "the sensitivity phase completed")
        return (sim, graph, bits, s)
    }

    func testQuantizePhaseAfterSensitivity() throws {
        var (sim, graph, bits, s) = try quantizeSimulation()
        sim.workers[1].dieAt = sim.now + 5
        sim.run()
        guard case .quantized(let digests)? = sim.outcome else { return XCTFail("no quantized layers: \(String(describing: sim.outcome))") }
        let reference = try ModelQuantizer(graph: graph, widths: bits.map { LayerWidths(weightBits: $0) }).quantize(calibration: nil).layers
        XCTAssertEqual(try sim.coordinator.quantizedLayers(digests), reference)
        XCTAssertEqual(sim.workers[0].core.plan, WireDigest(Digest.sha256(Array("{\"plan\":1}".utf8))), "the plan was broadcast")
        XCTAssertEqual(sim.estimates?.map(\.trace.bitPattern), s.reference.layers.map(\.trace.bitPattern))
    }

    /// Layers over the RESULT body limit (here every layer: a limit of 64 bytes) travel as blobs
    /// the coordinator pulls in chunks from the worker; a worker that dies mid-pull gives its
    /// task back; the layers and the journal come out as with bodies inline.
    /// A RESULT blob is bounded by what its layer can need (16-bit codes, per-channel scales): a
    /// worker that claims more is struck before the coordinator allocates anything.
    func testAPulledBlobLargerThanItsLayerCanNeedIsAStrike() throws {
        var (sim, _, _, _) = try quantizeSimulation(stopAtPhaseEnd: true)
        // the two workers fall silent: their quantize leases go back to the queue
        let later = sim.now + 60_000
        _ = sim.coordinator.handle(.tick, now: later)
        sim.now = later
        let peer: [UInt8] = Array("liar".utf8)
        let hello = WireMessage.hello(Hello(capabilities: [.quantize], instance: 99, name: "liar", threads: 1, credit: 1))
        let welcomed = sim.coordinator.handle(.message(peer: peer, hello), now: sim.now)
        let tasks = welcomed.compactMap { if case .send(peer, .task(let t)) = $0, t.kind == .quantize { t } else { nil } }
        let task = try XCTUnwrap(tasks.first, "a quantize task for the new worker: \(welcomed) \(sim.outcome.map { "\($0)" } ?? "running")")
        let digest = try XCTUnwrap(WireDigest(bytes: Array(repeating: 5, count: 32)))
        let result = WireTaskResult(taskID: task.taskID, leaseID: task.leaseID, kind: .quantize, blobs: [digest], body: [], values: [])
        let pulled = sim.coordinator.handle(.message(peer: peer, .result(result)), now: sim.now + 1)
        let request = try XCTUnwrap(pulled.compactMap { if case .send(peer, .blobRequest(let r)) = $0 { r } else { nil } }.first, "\(pulled)")
        XCTAssertEqual(request.digest, digest)
        let huge = BlobChunk(digest: digest, offset: 0, totalBytes: 100 << 20,   // far below any global cap, far above the layer's need
                              data: Array(repeating: 0, count: Int(request.length)))
        let answer = sim.coordinator.handle(.message(peer: peer, .blobChunk(huge)), now: sim.now + 2)
        XCTAssertTrue(answer.contains { if case .send(peer, .error(let e)) = $0 { e.code == .invalidResult } else { false } }, "\(answer)")
        XCTAssertTrue(answer.contains { if case .log(let line) = $0 { line.contains("more than the") } else { false } }, "\(answer)")
    }

    func testQuantizedLayersPulledAsBlobs() throws {
        var (sim, graph, bits, _) = try quantizeSimulation(inlineResultBytes: 64)
        sim.workers[1].dieAt = sim.now + 21   // just after its first layer is done: mid-pull
        sim.run()
        guard case .quantized(let digests)? = sim.outcome else { return XCTFail("no quantized layers: \(String(describing: sim.outcome))") }
        let reference = try ModelQuantizer(graph: graph, widths: bits.map { LayerWidths(weightBits: $0) }).quantize(calibration: nil).layers
        XCTAssertEqual(try sim.coordinator.quantizedLayers(digests), reference)
        let journaled = sim.journal.compactMap { if case .result(let r) = $0.record, r.kind == .quantize { r } else { nil } }
        XCTAssertEqual(journaled.count, digests.count)
        XCTAssertTrue(journaled.allSatisfy { $0.blobs.count == 1 }, "each journaled by one digest")
        XCTAssertEqual(Set(journaled.flatMap(\.blobs)), Set(digests), "by the digests of the layers (in acceptance order)")
        XCTAssertTrue(journaled.allSatisfy(\.body.isEmpty), "the journal holds no layer's bytes")
        for digest in digests {
            let body = try XCTUnwrap(sim.coordinator.layerStore.bytes(digest), "the coordinator's layer store holds the layer")
            XCTAssertEqual(WireDigest(Digest.sha256(body)), digest)
            XCTAssertTrue(sim.workers.contains { $0.core.produced.bytes(digest) == body }, "a worker held the layer as a blob")
        }
        // through the journal's bytes and back
        let header = JournalHeader(job: try XCTUnwrap(WireDigest(bytes: Array(repeating: 9, count: 32))))
        var bytes = JournalCodec.encode(header)
        for r in journaled { bytes += try JournalCodec.encode(.result(r)) }
        let read = try JournalCodec.read(bytes)
        XCTAssertEqual(read.tail, .clean)
        XCTAssertEqual(read.records, journaled.map { .result($0) })
    }

    /// Quantization errors as tasks of their own, leased with the first round: the same values
    /// as QuantizationErrors.compute in one process.
    func testQuantizationErrorTasks() throws {
        let s = try setup("tanh_mlp", hutchinson: true)
        let graph = try ONNXLoader.load(contentsOf: Self.root.appendingPathComponent("Tests/Fixtures/tanh_mlp.onnx"))
        var sim = Simulation(inputs: s.inputs, options: s.options, workers: 2, errorBits: [2, 4, 8])
        sim.graph = graph
        sim.addWorker(computeMs: 15)
        sim.addWorker(computeMs: 25)
        sim.run()
        assertMatches(sim, s)
        let reference = try QuantizationErrors.compute(graph, bits: [2, 4, 8])
        let got = try XCTUnwrap(sim.coordinator.quantizationErrors)
        XCTAssertEqual(got.count, reference.count)
        for (a, b) in zip(got, reference) {
            XCTAssertEqual(a.mapValues(\.bitPattern), b.mapValues(\.bitPattern))
        }
    }

    /// Seeded runs over a network that loses, duplicates, delays and reorders messages, with a
    /// worker crash and a late join: every run ends with the reference bits (a failing seed
    /// reproduces exactly).
    func testUnreliableNetworkSeeds() throws {
        let s = try setup("tanh_mlp", hutchinson: true)
        for seed in 1...60 as ClosedRange<UInt64> {
            var config = CoordinatorConfig(epoch: 3)
            config.leaseMs = 2000
            config.maxFailures = 50
            var sim = Simulation(inputs: s.inputs, options: s.options, workers: 3, config: config)
            sim.faults = Simulation.Faults(state: seed, loss: 0.05, duplication: 0.05, maxDelayMs: 15)
            for c in [10, 20, 30] as [UInt64] { sim.addWorker(computeMs: c) }
            // and a crash at a seeded moment, and a worker joining late
            sim.workers[Int(seed % 3)].dieAt = 20 + seed * 37 % 400
            sim.joinLater = [(at: 100 + seed * 53 % 500, computeMs: 15, name: nil)]
            sim.run(limitMs: 300_000)
            guard case .sensitivity? = sim.outcome else {
                XCTFail("seed \(seed): \(String(describing: sim.outcome)) at \(sim.now) ms; \(sim.coordinator.tasksDone) done, \(sim.coordinator.tasksQueued) queued, \(sim.coordinator.tasksLeased) leased; log: \(sim.logs.suffix(6))")
                continue
            }
            assertMatches(sim, s)
        }
    }

    func testResultValidation() throws {
        let s = try setup("mlp", hutchinson: false)
        let spec = SensitivityWorkSpec(job: s.runner.job, source: ModelSource(modelPath: "m"), probesPerCall: 2)
        var config = CoordinatorConfig(epoch: 1)
        config.maxStrikes = 4   // three invalid results below, then a valid one
        var core = CoordinatorCore(config: config, spec: spec, options: s.options, workers: 1)
        let peer: [UInt8] = [1, 2, 3]
        var actions = core.handle(.message(peer: peer, .hello(Hello(capabilities: [.sensitivity], instance: 9, name: "w",
                                                                      threads: 1, credit: 1))), now: 0)
        guard case .task(let t)? = actions.compactMap({ if case .send(_, let m) = $0 { m } else { nil } }).last else {
            return XCTFail("no task sent: \(actions)")
        }
        let (task, _) = try SensitivityBodies.decodeTask(t.body)
        let good = try s.runner.run(task)
        func reply(_ values: [Double], _ body: [UInt8]? = nil, id: UInt64? = nil) -> [CoordinatorAction] {
            core.handle(.message(peer: peer, .result(WireTaskResult(
                taskID: id ?? t.taskID, leaseID: t.leaseID, kind: .sensitivity,
                body: body ?? SensitivityBodies.resultBody(task, exampleCounts: good.exampleCounts), values: values))), now: 1)
        }
        func errorCode(_ a: [CoordinatorAction]) -> WireErrorCode? {
            a.compactMap { if case .send(_, .error(let e)) = $0 { e.code } else { nil } }.first
        }
        XCTAssertEqual(errorCode(reply(Array(good.values.dropLast()))), .invalidResult, "too few values")
        XCTAssertEqual(errorCode(reply(good.values, id: 999)), .unknownTask)
        XCTAssertEqual(errorCode(reply(good.values, [9, 9])), .invalidResult, "garbled body")
        XCTAssertEqual(core.tasksDone, 0)
        // the task was re-queued and re-sent after the invalid result
        actions = reply(good.values)
        XCTAssertNil(errorCode(actions))
        XCTAssertEqual(core.tasksDone, 1, "a valid result for the task is accepted whatever the lease")
        XCTAssertEqual(core.duplicates, 0)
        _ = reply(good.values)
        XCTAssertEqual(core.duplicates, 1)
    }

    func testBodiesRoundTripAndRejectGarbage() throws {
        let task = SensitivityTask(batches: 1..<3, probes: 4..<6, groups: 0..<2)
        let spec: [UInt8] = Array("{\"a\":1}".utf8)
        let (t, s) = try SensitivityBodies.decodeTask(SensitivityBodies.taskBody(task, spec: spec))
        XCTAssertEqual(t, task)
        XCTAssertEqual(s, spec)
        let (r, counts) = try SensitivityBodies.decodeResult(SensitivityBodies.resultBody(task, exampleCounts: [4, 2]))
        XCTAssertEqual(r, task)
        XCTAssertEqual(counts, [4, 2])
        var body = SensitivityBodies.taskBody(task, spec: spec)
        body.removeLast()
        XCTAssertThrowsError(try SensitivityBodies.decodeTask(body))
        XCTAssertThrowsError(try SensitivityBodies.decodeResult([]))
        XCTAssertThrowsError(try SensitivityBodies.decodeResult([2] + Array(repeating: 0, count: 52)))
    }
}
