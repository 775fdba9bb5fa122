import HutchClusterCore
import HutchModel
import HutchQuantize
import HutchSensitivity
import HutchWire
import XCTest

/// The coordinator crashes at seeded moments and restarts from the records it had synced: the
/// outcome is bit-identical to the undisturbed run, and only unjournaled tasks run again.
extension CoordinatorCoreTests {
    func crashAndResume(_ s: Setup, crashAt: UInt64, syncWindowMs: UInt64, tearBytes: Int = 0,
                        errorBits: [Int]? = nil, graph: Graph? = nil, quantize: QuantizeWorkSpec? = nil,
                        file: StaticString = #filePath, line: UInt = #line, afterReplay: (CoordinatorCore) -> Void = { _ in }) throws -> Simulation {
        func make(_ epoch: UInt64) -> Simulation {
            var config = CoordinatorConfig(epoch: epoch)
            config.leaseMs = 3000
            var sim = Simulation(inputs: s.inputs, options: s.options, workers: 3, config: config,
                                 quantizeFollows: quantize != nil, errorBits: errorBits)
            sim.graph = graph
            sim.quantize = quantize
            return sim
        }
        var sim = make(7)
        for c in [20, 30, 45] as [UInt64] { sim.addWorker(computeMs: c) }
        sim.run(limitMs: crashAt)
        XCTAssertNil(sim.outcome, "crash at \(crashAt) ms comes before the end", file: file, line: line)
        let journaled = sim.journal.count
        try sim.crashCoordinator(syncWindowMs: syncWindowMs, tearBytes: tearBytes) { make($0).coordinator }
        let replayed = sim.coordinator.replayed
        afterReplay(sim.coordinator)
        XCTAssertLessThanOrEqual(replayed, journaled, file: file, line: line)
        XCTAssertEqual(sim.coordinator.tasksDone, replayed, "replayed tasks are done, no other", file: file, line: line)
        sim.run()
        // the job finished on the workers of the first coordinator: they re-handshook with the new one
        let afterCrash = sim.logs.drop { !$0.contains("crashed at") }
        XCTAssertTrue(sim.coordinator.tasksDone == replayed || afterCrash.contains { $0.contains("joined") },
                      "workers rejoined the restarted coordinator: \(sim.logs.suffix(8))", file: file, line: line)
        XCTAssertGreaterThan(sim.coordinator.tasksDone, replayed, "the restarted coordinator leased the rest", file: file, line: line)
        return sim
    }

    /// When the undisturbed run (the same workers) journals its last result.
    func lastRecordMs(_ s: Setup) -> UInt64 {
        var sim = Simulation(inputs: s.inputs, options: s.options, workers: 3)
        for c in [20, 30, 45] as [UInt64] { sim.addWorker(computeMs: c) }
        sim.run()
        return sim.journal.last?.at ?? 0
    }

    func testExactCrashesAtSeveralMomentsGiveTheSameBits() throws {
        let s = try setup("mlp", hutchinson: false)
        let end = lastRecordMs(s)
        XCTAssertGreaterThan(end, 40)
        var replays: [Int] = []
        for (crashAt, window) in [(end / 5, 0), (end / 3, 10), (end / 2, 30), (end - 1, 5)] as [(UInt64, UInt64)] {
            let sim = try crashAndResume(s, crashAt: crashAt, syncWindowMs: window)
            assertMatches(sim, s)
            replays.append(sim.coordinator.replayed)
        }
        XCTAssertTrue(replays.contains { $0 > 0 }, "some crash came after results were journaled: \(replays)")
    }

    func testHutchinsonAdaptiveCrashesAcrossRoundsGiveTheSameBits() throws {
        let s = try setup("tanh_mlp", hutchinson: true)
        XCTAssertGreaterThan(s.reference.layers.compactMap(\.probes).max() ?? 0, 4, "the reference needs more than one round")
        let end = lastRecordMs(s)
        var roundsReplayed: Set<Int> = []
        for seed in 1...8 as ClosedRange<UInt64> {
            let crashAt = 1 + seed * 97 % (end - 1)
            let sim = try crashAndResume(s, crashAt: crashAt, syncWindowMs: seed % 3 * 20, tearBytes: Int(seed % 4) * 7) { roundsReplayed.insert($0.round) }
            assertMatches(sim, s)
        }
        XCTAssertGreaterThan(roundsReplayed.count, 1, "crashes in different rounds: \(roundsReplayed)")
    }

    /// Quantization-error tasks and a quantize phase: crashes before, at and after the phase end.
    func testCrashesAroundTheQuantizePhaseGiveTheSameLayers() throws {
        let s = try setup("mlp", hutchinson: false)
        let graph = try ONNXLoader.load(contentsOf: CoordinatorCoreTests.root.appendingPathComponent("Tests/Fixtures/mlp.onnx"))
        let bits = graph.quantizableLayers.indices.map { [4, 8, 3][$0 % 3] }
        let reference = try ModelQuantizer(graph: graph, widths: bits.map { LayerWidths(weightBits: $0) }).quantize(calibration: nil).layers
        // how long the undisturbed run takes, to crash in both phases
        var clean = Simulation(inputs: s.inputs, options: s.options, workers: 3, quantizeFollows: true, errorBits: [2, 4, 8])
        clean.graph = graph
        clean.quantize = QuantizeWorkSpec(modelPath: SimulationInputs.modelPath, weightBits: bits)
        for c in [20, 30, 45] as [UInt64] { clean.addWorker(computeMs: c) }
        clean.run()
        guard case .quantized(let cleanDigests)? = clean.outcome else { return XCTFail("no clean run") }
        XCTAssertEqual(try clean.coordinator.quantizedLayers(cleanDigests), reference)
        let phaseEnd = try XCTUnwrap(clean.journal.last { if case .result(let r) = $0.record { r.kind != .quantize } else { false } }?.at)
        let end = try XCTUnwrap(clean.journal.last?.at)
        let sensitivityRecords = clean.journal.filter { if case .result(let r) = $0.record { r.kind != .quantize } else { false } }.count
        var crossed = false
        for crashAt in [phaseEnd / 2, phaseEnd + 1, phaseEnd + (end - phaseEnd) / 2, end - 1] {
            let sim = try crashAndResume(s, crashAt: crashAt, syncWindowMs: 0, errorBits: [2, 4, 8], graph: graph,
                                         quantize: QuantizeWorkSpec(modelPath: SimulationInputs.modelPath, weightBits: bits))
            guard case .quantized(let digests)? = sim.outcome else { XCTFail("crash at \(crashAt): \(String(describing: sim.outcome))"); continue }
            XCTAssertEqual(try sim.coordinator.quantizedLayers(digests), reference, "crash at \(crashAt)")
            XCTAssertEqual(sim.estimates?.map(\.trace.bitPattern), s.reference.layers.map(\.trace.bitPattern))
            let errors: [[Int: Double]] = try XCTUnwrap(sim.coordinator.quantizationErrors)
            let cleanErrors: [[Int: Double]] = try XCTUnwrap(clean.coordinator.quantizationErrors)
            XCTAssertEqual(errors.map { $0.mapValues { $0.bitPattern } }, cleanErrors.map { $0.mapValues { $0.bitPattern } })
            if sim.coordinator.replayed >= sensitivityRecords { crossed = true }
        }
        XCTAssertTrue(crossed, "a replay crossed the end of the sensitivity phase")
    }

    /// Quantized layers are journaled by digest and kept in the layer store (the state
    /// directory's layers/): a layer file lost with a crash, or damaged, is quantized again after
    /// the restart (one log line each), and a later restart replays both records of such a task.
    func testALayerLostOrDamagedWithACrashIsQuantizedAgain() throws {
        let s = try setup("mlp", hutchinson: false)
        let graph = try ONNXLoader.load(contentsOf: CoordinatorCoreTests.root.appendingPathComponent("Tests/Fixtures/mlp.onnx"))
        let bits = graph.quantizableLayers.indices.map { [4, 8, 3][$0 % 3] }
        let reference = try ModelQuantizer(graph: graph, widths: bits.map { LayerWidths(weightBits: $0) }).quantize(calibration: nil).layers
        func make(_ epoch: UInt64) -> Simulation {
            var sim = Simulation(inputs: s.inputs, options: s.options, workers: 3, config: CoordinatorConfig(epoch: epoch), quantizeFollows: true)
            sim.graph = graph
            sim.quantize = QuantizeWorkSpec(modelPath: SimulationInputs.modelPath, weightBits: bits)
            return sim
        }
        func stored(_ sim: Simulation) -> [WireDigest] {
            sim.journal.compactMap { if case .result(let r) = $0.record, r.kind == .quantize { r.blobs.first } else { nil } }
        }
        var sim = make(7)
        for c in [20, 30, 45] as [UInt64] { sim.addWorker(computeMs: c) }
        sim.run { stored($0).count >= 2 }
        XCTAssertNil(sim.outcome, "a layer is left to quantize at the crash")
        let journaled = stored(sim)
        XCTAssertEqual(journaled.count, 2, "two layers journaled, each by its digest")
        try sim.crashCoordinator(syncWindowMs: 0, damageLayers: { old in
            var kept = MemoryBlobStore()   // the first layer's file is gone, the second's damaged
            for (i, digest) in journaled.enumerated() where i > 0 { kept.put(digest, i == 1 ? [1, 2, 3] : old.bytes(digest) ?? []) }
            return kept
        }) { make($0).coordinator }
        XCTAssertEqual(sim.coordinator.tasksDone, sim.journal.count - 2, "the two layers' tasks are open again")
        XCTAssertEqual(sim.logs.filter { $0.contains("missing or damaged in the state directory; the task runs again") }.count, 2, "\(sim.logs.suffix(5))")
        sim.run()
        guard case .quantized(let digests)? = sim.outcome else { return XCTFail("\(String(describing: sim.outcome))") }
        XCTAssertEqual(try sim.coordinator.quantizedLayers(digests), reference)
        // the journal now holds two records of each redone task: a restart takes the first, passes over the second
        let records = sim.journal.count
        try sim.crashCoordinator(syncWindowMs: 0) { make($0).coordinator }
        XCTAssertEqual(sim.journal.count, records)
        XCTAssertEqual(sim.coordinator.tasksDone, records - 2)
    }

    /// Replay refuses a record that does not fit the job instead of trusting it.
    func testReplayRefusesARecordOfAnotherJob() throws {
        let s = try setup("mlp", hutchinson: false)
        var sim = Simulation(inputs: s.inputs, options: s.options, workers: 1)
        sim.addWorker()
        sim.run()
        assertMatches(sim, s)
        guard case .result(var r)? = sim.journal.first?.record else { return XCTFail("nothing journaled") }
        var fresh = Simulation(inputs: s.inputs, options: s.options, workers: 1).coordinator
        r.taskID = 10_000
        XCTAssertThrowsError(try fresh.replay(.result(r)))
        guard case .result(var wrong)? = sim.journal.first?.record else { return }
        wrong.values.removeLast()
        XCTAssertThrowsError(try fresh.replay(.result(wrong))) { XCTAssertTrue("\($0)".contains("does not fit"), "\($0)") }
        guard case .result(let good)? = sim.journal.first?.record else { return }
        XCTAssertNoThrow(try fresh.replay(.result(good)))
        XCTAssertThrowsError(try fresh.replay(.result(good)), "a repeated record")
    }
}

extension CoordinatorCoreTests {
    /// Eigenvalue results are journaled like every other kind, and replay restores them.
    func testEigenvalueResultsArePersistedAndReplayed() throws {
        let s = try setup("mlp", hutchinson: false)
        let spec = SensitivityWorkSpec(job: s.runner.job, source: ModelSource(modelPath: "m"), probesPerCall: 2)
        func core() -> CoordinatorCore {
            CoordinatorCore(config: CoordinatorConfig(epoch: 1), spec: spec, options: s.options, workers: 1, eigenIterations: 5)
        }
        var live = core()
        let peer: [UInt8] = [4]
        let sent = live.handle(.message(peer: peer, .hello(Hello(capabilities: [.sensitivity], instance: 1, name: "w", threads: 1, credit: 8))), now: 0)
        let eigen = sent.compactMap { if case .send(_, .task(let t)) = $0, t.body.first == EigenvalueBodies.format { t } else { nil } }
        let t = try XCTUnwrap(eigen.first, "an eigenvalue task is leased")
        let (layer, _, _) = try EigenvalueBodies.decodeTask(t.body)
        let r = WireTaskResult(taskID: t.taskID, leaseID: t.leaseID, kind: .sensitivity, body: EigenvalueBodies.resultBody(layer: layer), values: [2.5])
        let actions = live.handle(.message(peer: peer, .result(r)), now: 1)
        let persisted = actions.compactMap { if case .persist(let record) = $0 { record } else { nil } }
        XCTAssertEqual(persisted, [.result(r)])
        XCTAssertTrue(live.handle(.message(peer: peer, .result(r)), now: 2).allSatisfy { if case .persist = $0 { false } else { true } },
                      "a duplicate is not journaled again")
        var restarted = core()
        XCTAssertTrue(try restarted.replay(.result(r)).isEmpty)
        XCTAssertEqual(restarted.eigenvalues[layer], 2.5)
        XCTAssertEqual(restarted.tasksDone, 1)
    }

    /// A worker whose coordinator restarted: ERROR not_welcomed makes it say HELLO again, the
    /// new epoch's WELCOME drops the old leases (their computations only return credit), and
    /// the blob cache stays.
    func testWorkerRejoinsARestartedCoordinatorAndKeepsItsCache() throws {
        var worker = WorkerCore(config: WorkerConfig(name: "w", instance: 5))
        let job = try XCTUnwrap(WireDigest(bytes: Array(repeating: 1, count: 32)))
        _ = worker.handle(.tick, now: 0)
        _ = worker.handle(.message(.welcome(Welcome(job: job, epoch: 1, maxCredit: 8))), now: 1)
        let plan = Array("{\"plan\":1}".utf8)
        let digest = try XCTUnwrap(WireDigest(Digest.sha256(plan)))
        _ = worker.handle(.message(.plan(PlanBroadcast(digest: digest, body: plan))), now: 2)
        let body = QuantizeBodies.taskBody(layer: 0, spec: Array("{}".utf8))
        let computing = worker.handle(.message(.task(TaskAssignment(taskID: 3, leaseID: 9, leaseMs: 1000, kind: .quantize, blobs: [], body: body))), now: 3)
        XCTAssertTrue(computing.contains { if case .compute = $0 { true } else { false } })
        // the coordinator restarted: it does not know this worker
        let reply = worker.handle(.message(.error(ErrorReply(code: .notWelcomed, command: WireCommand.heartbeat.rawValue, message: "no session"))), now: 4)
        XCTAssertTrue(reply.contains { if case .send(.hello) = $0 { true } else { false } }, "HELLO again: \(reply)")
        // the ERRORs drawn by the other messages sent before that HELLO do not repeat it
        let more = worker.handle(.message(.error(ErrorReply(code: .notWelcomed, command: WireCommand.credit.rawValue, message: "no session"))), now: 4)
        XCTAssertFalse(more.contains { if case .send(.hello) = $0 { true } else { false } }, "one HELLO per lost session: \(more)")
        _ = worker.handle(.message(.welcome(Welcome(job: job, epoch: 2, maxCredit: 8))), now: 5)
        XCTAssertTrue(worker.welcomed)
        let late = worker.handle(.computed(taskID: 3, leaseID: 9, .quantized(body: [1])), now: 6)
        XCTAssertFalse(late.contains { if case .send(.result) = $0 { true } else { false } }, "no RESULT under a lease of the old epoch: \(late)")
        XCTAssertTrue(late.contains { if case .send(.credit) = $0 { true } else { false } }, "its slot comes back as credit: \(late)")
        XCTAssertEqual((worker.fetched as? MemoryBlobStore)?.bytes(digest), plan, "the cache survives the restart")
    }
}

extension CoordinatorCoreTests {
    /// Seeded runs over a lossy, duplicating, reordering network with one or two coordinator
    /// crashes each (torn tails, lost sync groups): every run ends with the reference bits.
    func testSeededCrashesOverAnUnreliableNetwork() throws {
        let s = try setup("tanh_mlp", hutchinson: true)
        let end = lastRecordMs(s)
        var crashes = 0
        for seed in 1...40 as ClosedRange<UInt64> {
            func make(_ epoch: UInt64) -> Simulation {
                var config = CoordinatorConfig(epoch: epoch)
                config.leaseMs = 2000
                config.maxFailures = 50
                return Simulation(inputs: s.inputs, options: s.options, workers: 3, config: config)
            }
            var sim = make(100 * seed)
            sim.faults = Simulation.Faults(state: seed, loss: 0.05, duplication: 0.05, maxDelayMs: 15)
            for c in [10, 20, 30] as [UInt64] { sim.addWorker(computeMs: c) }
            var at = 1 + seed * 131 % end
            for crash in 0..<Int(1 + seed % 2) {
                sim.run(limitMs: at)
                guard sim.outcome == nil else { break }
                try sim.crashCoordinator(syncWindowMs: (seed + UInt64(crash)) % 4 * 15, tearBytes: Int(seed % 5) * 3) { make($0).coordinator }
                crashes += 1
                at += 1 + seed * 71 % end
            }
            sim.run(limitMs: 300_000)
            guard case .sensitivity? = sim.outcome else {
                XCTFail("seed \(seed): \(String(describing: sim.outcome)) at \(sim.now) ms; log: \(sim.logs.suffix(6))")
                continue
            }
            assertMatches(sim, s)
        }
        XCTAssertGreaterThan(crashes, 40, "most runs crashed at least once, some twice")
    }
}

extension CoordinatorCoreTests {
    /// A coordinator stopped by a signal keeps serving a moment so its DISCONNECTs go out; a
    /// worker whose HELLO lands then must hear "shutdown" (and wait for the restart), not "job
    /// complete" (and exit, leaving the restarted coordinator a worker short).
    func testAHelloDuringTheShutdownFlushHearsShutdownNotJobComplete() throws {
        let s = try setup("mlp", hutchinson: false)
        let spec = SensitivityWorkSpec(job: s.runner.job, source: ModelSource(modelPath: "m"), probesPerCall: 2)
        var core = CoordinatorCore(config: CoordinatorConfig(epoch: 1), spec: spec, options: s.options, workers: 2, tasksPerWorker: 1)
        func hello(_ instance: UInt64) -> WireMessage {
            .hello(Hello(capabilities: [.sensitivity], instance: instance, name: "w\(instance)", threads: 1, credit: 1))
        }
        func farewells(_ actions: [CoordinatorAction], to peer: [UInt8]) -> [Disconnect] {
            actions.compactMap { if case .send(peer, .disconnect(let d)) = $0 { d } else { nil } }
        }
        _ = core.handle(.message(peer: [1], hello(1)), now: 0)
        let stopped = core.abort("interrupted by signal 15 (SIGTERM)")
        XCTAssertEqual(farewells(stopped, to: [1]).map(\.reason), [.shutdown])
        let late = core.handle(.message(peer: [2], hello(2)), now: 10)
        XCTAssertEqual(farewells(late, to: [2]).map(\.reason), [.shutdown], "\(late)")
        XCTAssertEqual(farewells(late, to: [2]).first?.message, "interrupted by signal 15 (SIGTERM)")
    }
}
