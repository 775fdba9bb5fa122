import HutchCluster
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
            var sim = Simulation(runner: s.runner, options: s.options, workers: 3, config: config,
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
        var sim = Simulation(runner: s.runner, options: s.options, workers: 3)
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
        var clean = Simulation(runner: s.runner, options: s.options, workers: 3, quantizeFollows: true, errorBits: [2, 4, 8])
        clean.graph = graph
        clean.quantize = QuantizeWorkSpec(modelPath: "unused.onnx", weightBits: bits)
        for c in [20, 30, 45] as [UInt64] { clean.addWorker(computeMs: c) }
        clean.run()
        guard case .quantized(let cleanLayers)? = clean.outcome else { return XCTFail("no clean run") }
        XCTAssertEqual(cleanLayers, reference)
        let phaseEnd = try XCTUnwrap(clean.journal.last { if case .result(let r) = $0.record { r.kind != .quantize } else { false } }?.at)
        let end = try XCTUnwrap(clean.journal.last?.at)
        let sensitivityRecords = clean.journal.filter { if case .result(let r) = $0.record { r.kind != .quantize } else { false } }.count
        var crossed = false
        for crashAt in [phaseEnd / 2, phaseEnd + 1, phaseEnd + (end - phaseEnd) / 2, end - 1] {
            let sim = try crashAndResume(s, crashAt: crashAt, syncWindowMs: 0, errorBits: [2, 4, 8], graph: graph,
                                         quantize: QuantizeWorkSpec(modelPath: "unused.onnx", weightBits: bits))
            guard case .quantized(let layers)? = sim.outcome else { XCTFail("crash at \(crashAt): \(String(describing: sim.outcome))"); continue }
            XCTAssertEqual(layers, reference, "crash at \(crashAt)")
            XCTAssertEqual(sim.estimates?.map(\.trace.bitPattern), s.reference.layers.map(\.trace.bitPattern))
            let errors: [[Int: Double]] = try XCTUnwrap(sim.coordinator.quantizationErrors)
            let cleanErrors: [[Int: Double]] = try XCTUnwrap(clean.coordinator.quantizationErrors)
            XCTAssertEqual(errors.map { $0.mapValues { $0.bitPattern } }, cleanErrors.map { $0.mapValues { $0.bitPattern } })
            if sim.coordinator.replayed >= sensitivityRecords { crossed = true }
        }
        XCTAssertTrue(crossed, "a replay crossed the end of the sensitivity phase")
    }

    /// Replay refuses a record that does not fit the job instead of trusting it.
    func testReplayRefusesARecordOfAnotherJob() throws {
        let s = try setup("mlp", hutchinson: false)
        var sim = Simulation(runner: s.runner, options: s.options, workers: 1)
        sim.addWorker()
        sim.run()
        assertMatches(sim, s)
        guard case .result(var r)? = sim.journal.first?.record else { return XCTFail("nothing journaled") }
        var fresh = Simulation(runner: s.runner, options: s.options, workers: 1).coordinator
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
