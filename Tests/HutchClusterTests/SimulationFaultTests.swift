import HutchCluster
import HutchSensitivity
import HutchWire
import XCTest

/// Named fault scenarios in the simulator: corrupt workers among good ones, poison tasks, and the
/// runs that once failed (kept as explicit plans so they stay the same whatever `seeded` becomes).
final class SimulationFaultTests: XCTestCase {
    func sim(_ f: SimulationFixtures.Fixture, workers computeMs: [UInt64], plan: Simulation.FaultPlan, config: CoordinatorConfig? = nil) -> Simulation {
        var config = config ?? CoordinatorConfig(epoch: 3)
        if config.leaseMs == CoordinatorConfig(epoch: 3).leaseMs { config.leaseMs = 2000 }
        var sim = Simulation(runner: f.runner, options: f.options, workers: computeMs.count, config: config,
                             quantizeFollows: f.quantize != nil, errorBits: f.errors?.bits)
        sim.graph = f.graph
        sim.quantize = f.quantize?.spec
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
            for corruption in Simulation.Corruption.allCases {
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
                guard case .some(.some(let why)) = sim.workers[1].exited else { XCTFail("\(what): the corrupt worker was not sent away"); continue }
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
}
