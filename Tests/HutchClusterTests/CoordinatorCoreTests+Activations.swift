import HutchClusterCore
import HutchSensitivity
import HutchWire
import XCTest

extension CoordinatorCoreTests {
    /// Activation-trace tasks follow the weight traces; a RESULT with the wrong value count, echo
    /// or example counts is struck, a good one is journaled once and replay restores the cells.
    func testActivationResultsAreCheckedPersistedAndReplayed() throws {
        let s = try setup("mlp", hutchinson: false)
        let spec = SensitivityWorkSpec(job: s.runner.job, source: ModelSource(modelPath: "m"), probesPerCall: 2)
        let values = ActivationSensitivity.values(of: s.runner.executor.graph).count
        func core() -> CoordinatorCore {
            CoordinatorCore(config: CoordinatorConfig(epoch: 1), spec: spec, options: s.options, workers: 1,
                            activations: ActivationRequest(values: values, probes: nil))
        }
        var live = core()
        let peer: [UInt8] = [4]
        var now: UInt64 = 0
        var journal: [JournalRecord] = []
        func send(_ message: WireMessage) -> [CoordinatorAction] {
            now += 1
            let actions = live.handle(.message(peer: peer, message), now: now)
            journal += actions.compactMap { if case .persist(let record) = $0 { record } else { nil } }
            return actions
        }
        var pending = send(.hello(Hello(capabilities: [.sensitivity], instance: 1, name: "w", threads: 1, credit: 64)))
        var activationTasks: [TaskAssignment] = []
        // answer the weight traces honestly; keep the activation tasks they set off
        while let t = pending.compactMap({ if case .send(_, .task(let t)) = $0 { t } else { nil } }).first {
            pending.removeAll { if case .send(_, .task(let other)) = $0 { other.taskID == t.taskID } else { false } }
            if t.body.first == ActivationBodies.format { activationTasks.append(t); continue }
            let (task, _) = try SensitivityBodies.decodeTask(t.body)
            let result = try s.runner.run(task)
            pending += send(.result(WireTaskResult(taskID: t.taskID, leaseID: t.leaseID, kind: .sensitivity,
                                                   body: SensitivityBodies.resultBody(task, exampleCounts: result.exampleCounts), values: result.values)))
        }
        XCTAssertEqual(activationTasks.count, s.runner.job.batchCount, "one exact activation task per batch")
        let t = try XCTUnwrap(activationTasks.first)
        let (task, _) = try ActivationBodies.decodeTask(t.body)
        let good = try s.runner.activationValues(task)
        let counts = task.batches.map { s.runner.job.examples(ofBatch: $0).count }
        let bad: [WireTaskResult] = [
            WireTaskResult(taskID: t.taskID, leaseID: t.leaseID, kind: .sensitivity,
                           body: ActivationBodies.resultBody(task, exampleCounts: counts), values: Array(good.dropLast())),
            WireTaskResult(taskID: t.taskID, leaseID: t.leaseID, kind: .sensitivity,
                           body: SensitivityBodies.resultBody(task, exampleCounts: counts), values: good),
            WireTaskResult(taskID: t.taskID, leaseID: t.leaseID, kind: .sensitivity,
                           body: ActivationBodies.resultBody(task, exampleCounts: counts.map { $0 + 1 }), values: good),
        ]
        for (i, r) in bad.enumerated() {
            let actions = send(.result(r))
            XCTAssertTrue(actions.contains { if case .send(_, .error(let e)) = $0 { e.code == .invalidResult } else { false } }, "bad result \(i) is struck")
            XCTAssertFalse(actions.contains { if case .persist = $0 { true } else { false } }, "bad result \(i) is not journaled")
        }
        XCTAssertFalse(live.activationCells?.isComplete ?? true)
        // the third strike quarantined the worker: a fresh coordinator takes the good results
        live = core()
        let records = journal
        journal = []
        for record in records { _ = try live.replay(record) }
        let r = WireTaskResult(taskID: t.taskID, leaseID: t.leaseID, kind: .sensitivity,
                               body: ActivationBodies.resultBody(task, exampleCounts: counts), values: good)
        XCTAssertNoThrow(try live.replay(.result(r)))
        var restarted = core()
        for record in records + [.result(r)] { _ = try restarted.replay(record) }
        XCTAssertEqual(restarted.activationCells, live.activationCells)
        XCTAssertEqual(restarted.tasksDone, records.count + 1)
    }
}
