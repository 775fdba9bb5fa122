import HutchClusterCore
import HutchWire
import XCTest

/// Workers that reconnect while the coordinator is silent between the phases (the ResNet-18 stall
/// of `hutch run --activations`): the quantize phase's first TASKs leave before the coordinator
/// reads the workers' new HELLOs and reach them before their WELCOME, where they are ignored.
/// The coordinator keeps those leases (the worker process is the same), so it must send them again.
final class RejoinBetweenPhasesTests: XCTestCase {
    /// Leases as long as the real coordinator's: a stall would last ten minutes, not a lease of the soak's two seconds.
    func sim(workers: Int, pauseMs: UInt64) throws -> (Simulation, SimulationFixtures.Fixture) {
        let f = try SimulationFixtures.shared().mlpQuantize
        var sim = Simulation(inputs: f.inputs, options: f.options, workers: workers, config: CoordinatorConfig(epoch: 3),
                             quantizeFollows: true, errorBits: f.errors?.bits, activations: f.activations?.request)
        sim.graph = f.graph
        sim.installPhases(f)
        sim.memo = f.memo
        for w in 0..<workers { sim.addWorker(computeMs: 20 + 7 * UInt64(w)) }
        var plan = Simulation.FaultPlan(seed: 1)
        plan.faults = [.coordinatorPause(ms: pauseMs)]
        sim.install(plan)
        return (sim, f)
    }

    func decoded(_ packets: [Simulation.Packet]) throws -> [WireMessage] { try packets.map { try WireCodec.decode($0.frames) } }

    /// The sequence itself, message by message on the two cores.
    func testTasksSentBeforeTheNewHelloAreSentAgainAfterTheWelcome() throws {
        var (sim, _) = try sim(workers: 1, pauseMs: 60_000)
        let windowMs = UInt64(sim.coordinator.config.liveness) * UInt64(sim.coordinator.config.heartbeatMs)
        sim.run(limitMs: 30_000) { $0.pausedUntil != nil && $0.logs.contains { $0.contains("coordinator silent") } }
        let pausedAt = try XCTUnwrap(sim.pausedUntil) - 60_000
        XCTAssertGreaterThanOrEqual(sim.now - pausedAt, windowMs, "the worker waited a liveness window: \(sim.logs.suffix(4))")
        // what waits in the coordinator's socket: heartbeats and the new HELLO
        let waiting = try decoded(sim.network.filter(\.toCoordinator))
        XCTAssertTrue(waiting.contains { if case .hello = $0 { true } else { false } }, "\(waiting)")
        sim.network.removeAll()
        sim.pausedUntil = nil

        // the pause ends: the quantize phase's TASKs go out first, to the worker's new connection
        let graph = try XCTUnwrap(sim.graph), spec = try XCTUnwrap(sim.quantize)
        let started = sim.coordinator.startQuantize(spec, graph: graph, plan: [UInt8](try XCTUnwrap(sim.planData)), now: sim.now)
        let sent = started.compactMap { if case .send(_, .task(let t)) = $0 { t } else { nil } }
        XCTAssertEqual(sent.count, 2, "the worker's two units of credit: \(started)")
        var worker = sim.workers[0].core
        for t in sent {
            let ignored = worker.handle(.message(.task(t)), now: sim.now)
            XCTAssertFalse(ignored.contains { if case .compute = $0 { true } else { false } }, "no TASK before WELCOME: \(ignored)")
        }
        // then the coordinator reads what waited: the HELLO keeps the leases and sends their TASKs again
        var replies: [WireMessage] = []
        for m in waiting {
            for case .send(_, let reply) in sim.coordinator.handle(.message(peer: sim.workers[0].peer, m), now: sim.now) { replies.append(reply) }
        }
        XCTAssertEqual(sim.coordinator.tasksLeased, 2)
        guard case .welcome? = replies.first else { return XCTFail("WELCOME first: \(replies)") }
        let again = replies.compactMap { if case .task(let t) = $0 { t } else { nil } }
        XCTAssertEqual(again.map(\.taskID), sent.map(\.taskID))
        XCTAssertEqual(again.map(\.leaseID), sent.map(\.leaseID), "the same leases, kept")
        var computed: [UInt64] = []
        for m in replies {
            for case .compute(let request) in worker.handle(.message(m), now: sim.now) { computed.append(request.taskID) }
        }
        XCTAssertEqual(computed, sent.map(\.taskID), "the worker computes the kept leases")
        // a TASK sent again for a lease the worker holds is ignored
        for t in again { XCTAssertTrue(worker.handle(.message(.task(t)), now: sim.now).isEmpty) }
    }

    /// Whole runs: the coordinator silent for 1.3 and 3 liveness windows between the phases, two
    /// workers that reconnect; the job ends with the one-process layers a few windows after the
    /// pause, not when the kept leases expire.
    func testAJobWhoseCoordinatorPausesPastTheLivenessWindowFinishesPromptly() throws {
        for pauseMs: UInt64 in [4000, 9000] {
            var (sim, f) = try sim(workers: 2, pauseMs: pauseMs)
            sim.run(limitMs: 60_000) { $0.outcome != nil }
            let what = "pause \(pauseMs) ms"
            XCTAssertTrue(sim.logs.contains { $0.contains("coordinator silent") }, "\(what): the workers reconnected: \(sim.logs.suffix(6))")
            guard let outcome = sim.outcome else { return XCTFail("\(what): no result by \(sim.now) ms; \(sim.coordinator.tasksLeased) leased; \(sim.logs.suffix(8))") }
            if let why = SimulationProperty.mismatch(outcome, sim, f) { XCTFail("\(what): \(why)") }
        }
    }
}
