import HutchClusterCore
import HutchSensitivity
import HutchWire
import XCTest

/// Named fault scenarios in the simulator: corrupt workers among good ones, poison tasks, and the
/// runs that once failed (kept as explicit plans so they stay the same whatever `seeded` becomes).
final class SimulationFaultTests: XCTestCase {
    func sim(_ f: SimulationFixtures.Fixture, workers computeMs: [UInt64], plan: Simulation.FaultPlan, config: CoordinatorConfig? = nil) -> Simulation {
        var config = config ?? CoordinatorConfig(epoch: 3)
        if config.leaseMs == CoordinatorConfig(epoch: 3).leaseMs { config.leaseMs = 2000 }
        var sim = Simulation(inputs: f.inputs, options: f.options, workers: computeMs.count, config: config,
                             quantizeFollows: f.quantize != nil, errorBits: f.errors?.bits, activations: f.activations?.request,
                             measuredBits: f.measured?.bits)
        sim.graph = f.graph
        sim.installPhases(f)
        sim.memo = f.memo
        for c in computeMs { sim.addWorker(computeMs: c) }
        sim.install(plan)
        return sim
    }

    func assertReference(_ sim: Simulation, _ f: SimulationFixtures.Fixture, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        guard let outcome = sim.outcome else { return XCTFail("\(what): no result by \(sim.now) ms; log: \(sim.logs.suffix(8))", file: file, line: line) }
        if let why = SimulationProperty.mismatch(outcome, sim, f) { XCTFail("\(what): \(why); log: \(sim.logs.suffix(8))", file: file, line: line) }
    }

    /// Each kind of falsified RESULT (wrong shape, NaN, wrong task, wrong echo), from one worker
    /// among two good ones, over a lossy network: the result is still the reference, bit for bit.
    /// On the multi-round job the worker reaches three strikes, is quarantined and told so, and its
    /// restart under the same name is refused. (On the short jobs, probation may starve it of
    /// tasks first: a NaN RESULT names no task, so its lease is held until it expires.)
    func testACorruptWorkerIsQuarantinedAndTheResultIsBitIdentical() throws {
        let fixtures = try SimulationFixtures.shared()
        var quarantines = 0
        for f in [fixtures.tanhAdaptive, fixtures.tanhErrors, fixtures.mlpQuantize] {
            for corruption in Simulation.Corruption.invalid {
                var plan = Simulation.FaultPlan(seed: 11, loss: 0.02, duplication: 0.02, maxDelayMs: 5)
                plan.faults = [.corrupt(worker: 1, corruption)]
                var sim = sim(f, workers: [20, 5, 30], plan: plan)
                let what = "\(f.name), \(corruption)"
                // once it is quarantined, its supervisor restarts it under the same name
                func quarantined() -> Bool { sim.logs.contains { $0.contains("worker w1 (instance") && $0.contains("quarantined after 3 invalid results") } }
                while sim.outcome == nil && sim.now < 60_000 && !quarantined() { sim.run(limitMs: sim.now + 100) }
                let restarted = sim.outcome == nil
                if restarted { sim.joinLater = [(at: sim.now + 10, computeMs: 5, name: "w1")] }
                sim.run(limitMs: 120_000)
                assertReference(sim, f, what)
                if f.name == fixtures.tanhAdaptive.name { XCTAssertTrue(quarantined() && restarted, "\(what): quarantined before the job ends") }
                guard quarantined() else { continue }
                quarantines += 1
                guard case .some(.some(let why)) = sim.workers[1].exited else { XCTFail("\(what): the corrupt worker was not sent away; log: \(sim.logs.suffix(16))"); continue }
                XCTAssertTrue(why.contains("rejected") && why.contains("quarantined"), "\(what): \(why)")
                guard restarted else { continue }
                // the restarted process with the quarantined name never gets a session
                XCTAssertEqual(sim.workers.count, 4, what)
                XCTAssertEqual(sim.workers[3].core.completed, 0, what)
                XCTAssertEqual(sim.logs.filter { $0.hasPrefix("c: worker w1 joined") }.count, 1, "\(what): only the first w1 was welcomed")
                if case .some(.some(let why)) = sim.workers[3].exited {
                    XCTAssertTrue(why.contains("quarantined"), "\(what): \(why)")
                    XCTAssertTrue(sim.logs.contains { $0.contains("refused HELLO from quarantined worker w1") }, what)
                }   // else the job ended before its HELLO arrived
            }
        }
        print("corrupt workers: \(quarantines) of 12 runs quarantined the corrupt worker before the job ended")
    }

    /// A task that fails on every worker (out of memory, say) fails the job with a report naming
    /// the task and the failure, in bounded time, under a lossy network, with a worker that
    /// crashes and one that stalls: poison after maxPoisonReports, retryable after maxFailures.
    func testATaskFailingEverywhereFailsTheJobInBoundedTime() throws {
        let f = try SimulationFixtures.shared().tanhAdaptive
        for failureClass in [FailureClass.poison, .retryable] {
            var plan = Simulation.FaultPlan(seed: 5, loss: 0.03, duplication: 0.03, maxDelayMs: 8)
            plan.faults = [.crash(worker: 2, at: 400), .stall(worker: 1, at: 200, ms: 4000)]
            var sim = sim(f, workers: [10, 15, 20], plan: plan)
            sim.poisonBatch = (1, failureClass)
            sim.run(limitMs: 60_000)
            guard case .failed(let why)? = sim.outcome else {
                XCTFail("\(failureClass): expected the job to fail, got \(String(describing: sim.outcome)) at \(sim.now) ms"); continue
            }
            let config = sim.coordinator.config
            XCTAssertTrue(why.contains("out of memory (simulated)"), why)
            XCTAssertTrue(why.hasPrefix("task "), why)
            XCTAssertTrue(why.contains("task(batches"), "the report names the task: \(why)")
            let expected = failureClass == .poison ? "(\(config.maxPoisonReports) reported it poison)" : "failed \(config.maxFailures) times"
            XCTAssertTrue(why.contains(expected), why)
            XCTAssertLessThan(sim.now, 30_000, "\(failureClass): bounded (\(sim.now) ms)")
        }
    }

    /// The plans that failed before WorkerCore returned the slots its HELLO left out: a worker
    /// frozen past its liveness window came back with fewer task slots on the coordinator's books
    /// each time, until it got no task at all while the queue was full.
    func testWorkersStalledPastTheirLivenessKeepTheirCredit() throws {
        let fixtures = try SimulationFixtures.shared()
        let plans: [(SimulationFixtures.Fixture, [UInt64], Simulation.FaultPlan)] = [
            (fixtures.tanhAdaptive, [9, 26], Simulation.FaultPlan(seed: 3340, loss: 0.08, duplication: 0.08, maxDelayMs: 3, faults: [
                .crash(worker: 1, at: 950), .stall(worker: 0, at: 1222, ms: 2857), .stall(worker: 1, at: 2857, ms: 6515),
                .partition(worker: 1, at: 5511, ms: 8471)])),
            (fixtures.tanhAdaptive, [27, 8], Simulation.FaultPlan(seed: 3862, loss: 0.06, duplication: 0.05, maxDelayMs: 11, faults: [
                .crash(worker: 1, at: 890), .stall(worker: 0, at: 5508, ms: 3077), .stall(worker: 0, at: 5532, ms: 7228),
                .partition(worker: 1, at: 3425, ms: 3792)])),
            (fixtures.tanhErrors, [31, 12], Simulation.FaultPlan(seed: 5114, loss: 0.04, duplication: 0.03, maxDelayMs: 14, faults: [
                .stall(worker: 1, at: 3508, ms: 2155), .stall(worker: 0, at: 1076, ms: 6834), .corrupt(worker: 1, .nan)])),
            // and those the soak found next: a CREDIT lost on the way left a worker with no lease
            // and no credit while tasks waited (CoordinatorCore+Credit.swift)
            (fixtures.mlpQuantize, [14, 31], Simulation.FaultPlan(seed: 122607, loss: 0.06, duplication: 0.05, maxDelayMs: 16, faults: [
                .crash(worker: 1, at: 9813), .stall(worker: 0, at: 3434, ms: 3791), .partition(worker: 1, at: 9934, ms: 8641),
                .corrupt(worker: 1, .wrongEcho)])),
            (fixtures.tanhErrors, [22, 39], Simulation.FaultPlan(seed: 123959, loss: 0.08, duplication: 0.01, maxDelayMs: 11, faults: [
                .stall(worker: 1, at: 4417, ms: 3452), .stall(worker: 0, at: 7097, ms: 5744), .corrupt(worker: 1, .wrongEcho)])),
            (fixtures.tanhErrors, [31, 12], Simulation.FaultPlan(seed: 169202, loss: 0.05, duplication: 0.04, maxDelayMs: 4, faults: [
                .stall(worker: 0, at: 6939, ms: 4798), .stall(worker: 1, at: 4202, ms: 5056), .corrupt(worker: 1, .nan)])),
        ]
        for (f, computeMs, plan) in plans {
            var sim = sim(f, workers: computeMs, plan: plan)
            sim.run(limitMs: 120_000)
            assertReference(sim, f, plan.description)
        }
    }

    /// Redundant execution (verifyFraction 1: every task on two processes, accepted only when they
    /// agree bit for bit): a worker returning plausible wrong numbers, valid by every check, is
    /// outvoted by a third worker and struck each time (quarantined on the longest job); the result
    /// is the reference.
    /// Without it the same worker changes the result (so the comparison can fail).
    func testRedundantExecutionOutvotesPlausibleWrongNumbers() throws {
        let fixtures = try SimulationFixtures.shared()
        for f in [fixtures.tanhAdaptive, fixtures.tanhErrors, fixtures.mlpQuantize] {
            var config = CoordinatorConfig(epoch: 3)
            config.verifyFraction = 1
            let plan = Simulation.FaultPlan(seed: 21, loss: 0.02, duplication: 0.02, maxDelayMs: 5, faults: [.corrupt(worker: 1, .plausible)])
            var sim = sim(f, workers: [20, 5, 30], plan: plan, config: config)
            sim.run(limitMs: 120_000)
            assertReference(sim, f, "\(f.name), verified")
            XCTAssertTrue(sim.logs.contains { $0.contains("differs from the one") }, "\(f.name): a disagreement was settled by a third worker")
            if f.name == fixtures.tanhAdaptive.name {   // the longest job: three strikes before its end
                XCTAssertTrue(sim.logs.contains { $0.contains("worker w1 (instance") && $0.contains("quarantined") }, "\(f.name): \(sim.logs.suffix(5))")
            }
            XCTAssertFalse(sim.logs.contains { $0.contains("quarantined") && !$0.contains("worker w1") && !$0.contains("refused") }, "\(f.name): no honest worker quarantined")
        }
        let f = fixtures.tanhAdaptive
        var sim = sim(f, workers: [20, 5, 30], plan: Simulation.FaultPlan(seed: 21, faults: [.corrupt(worker: 1, .plausible)]))
        sim.run(limitMs: 120_000)
        let outcome = try XCTUnwrap(sim.outcome)
        XCTAssertNotNil(SimulationProperty.mismatch(outcome, sim, f), "unverified, the plausible wrong numbers get into the result")
    }

    /// SIGKILL and restart, then SIGTERM and restart, then the end, with two workers (as
    /// ResumeCommandTests.testCoordinatorKilledThenTerminatedResumesWithTheSameWorkers with real
    /// processes). The SIGTERM comes after w0 has rejoined the restarted coordinator and before w1
    /// has: w1's HELLO reaches the stopped coordinator while it flushes. That HELLO was answered
    /// DISCONNECT(job_complete), and w1 exited for good; now it gets shutdown, like the others, and
    /// comes back. Both workers must join the last coordinator; the result is the reference.
    func testCoordinatorKilledThenTerminatedKeepsBothWorkers() throws {
        let f = try SimulationFixtures.shared().tanhAdaptive
        let crash = Simulation.Fault.coordinatorCrash(at: 179, downMs: 300, syncWindowMs: 20, tearBytes: 0)
        func joins(_ sim: Simulation, after event: String) -> [Bool] {
            let since = sim.logs.firstIndex { $0.hasPrefix(event) } ?? sim.logs.endIndex
            return (0..<2).map { w in sim.logs[since...].contains { $0.hasPrefix("c: worker w\(w) joined") } }
        }
        // when each worker rejoins the restarted coordinator, undisturbed
        var probe = sim(f, workers: [20, 45], plan: Simulation.FaultPlan(seed: 1, faults: [crash]))
        var joined: [Int: UInt64] = [:]
        probe.run(limitMs: 60_000) { s in
            for (w, yes) in joins(s, after: "c: crashed at").enumerated() where yes && joined[w] == nil { joined[w] = s.now }
            return false
        }
        guard let (first, firstAt) = joined.min(by: { $0.value < $1.value }), let lastAt = joined.values.max(), lastAt > firstAt + 20 else {
            return XCTFail("the workers should rejoin one after the other: \(joined)")
        }
        let late = 1 - first
        // SIGTERM just before the late worker's HELLO arrives
        let stopAt = lastAt - 10
        var sim = sim(f, workers: [20, 45], plan: Simulation.FaultPlan(seed: 1, faults: [crash, .coordinatorStop(at: stopAt, downMs: 2000)]))
        var lateHello = false   // the race: the late worker's HELLO on its way to the stopped coordinator
        sim.run(limitMs: 120_000) { s in
            lateHello = lateHello || s.stopped && s.network.contains {
                guard $0.toCoordinator, $0.worker == late, $0.at < stopAt + Simulation.flushMs, case .hello? = try? WireCodec.decode($0.frames) else { return false }
                return true
            }
            return false
        }
        XCTAssertTrue(lateHello, "w\(late)'s HELLO reaches the coordinator while it flushes")
        assertReference(sim, f, "killed, then terminated")
        XCTAssertEqual(sim.logs.filter { $0.hasPrefix("c: crashed at") || $0.hasPrefix("c: stopped at") }.count, 2, "two restarts")
        let crashedAt = try XCTUnwrap(sim.logs.first { $0.hasPrefix("c: crashed at") }.flatMap { UInt64($0.split(separator: " ")[3]) })
        XCTAssertTrue(sim.journal.contains { crashedAt < $0.at && $0.at < stopAt }, "the restarted coordinator journaled new results before the SIGTERM")
        let beforeStop = sim.logs.prefix { !$0.hasPrefix("c: SIGTERM") }
        XCTAssertFalse(beforeStop.drop { !$0.hasPrefix("c: crashed at") }.contains { $0.hasPrefix("c: worker w\(late) joined") }, "w\(late) joins late")
        XCTAssertTrue(sim.logs.contains { $0.hasPrefix("w\(late): coordinator shut down") }, "w\(late)'s HELLO is answered shutdown: \(sim.logs.suffix(12))")
        XCTAssertEqual(joins(sim, after: "c: stopped at"), [true, true], "both workers joined the last coordinator: \(sim.logs.suffix(12))")
        XCTAssertEqual(sim.workers.map(\.exited), [.some(nil), .some(nil)], "both exited when the job was complete")
    }

    /// The sample is a fixed function of the task id: the same tasks on every run, about the fraction.
    func testTheVerifiedSampleIsDeterministic() throws {
        let f = try SimulationFixtures.shared().mlpQuantize
        var config = CoordinatorConfig(epoch: 1)
        config.verifyFraction = 0.25
        let spec = SensitivityWorkSpec(job: f.runner.job, source: ModelSource(modelPath: "m"), probesPerCall: 2)
        let a = CoordinatorCore(config: config, spec: spec, options: f.options, workers: 1)
        config.epoch = 2
        let b = CoordinatorCore(config: config, spec: spec, options: f.options, workers: 1)
        let sampled = (1...10_000 as ClosedRange<UInt64>).filter { a.isVerified($0) }
        XCTAssertEqual(sampled, (1...10_000 as ClosedRange<UInt64>).filter { b.isVerified($0) })
        XCTAssertEqual(Double(sampled.count), 2500, accuracy: 150)
        config.verifyFraction = 0
        XCTAssertFalse(CoordinatorCore(config: config, spec: spec, options: f.options, workers: 1).isVerified(1))
    }
}
