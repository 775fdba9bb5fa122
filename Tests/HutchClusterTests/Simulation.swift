import Foundation
import HutchAllocation
import HutchClusterCore
import HutchJobs
import HutchModel
import HutchQuantize
import HutchSensitivity
import HutchWire
import XCTest

/// The coordinator and worker cores in one process: a fake clock, an in-memory network that
/// carries every message through the real codec, and workers that compute with the worker's own
/// ComputeDispatcher, reading the job's files from memory.
struct SimError: Error {}

struct Simulation {
    struct SimWorker {
        var core: WorkerCore
        var peer: [UInt8]
        /// The worker's compute dispatch, as in the worker process but with the files in memory.
        var dispatcher: ComputeDispatcher
        var alive = true
        /// Computations in progress: when they end and what they produce.
        var computing: [(at: UInt64, taskID: UInt64, leaseID: UInt64, outcome: ComputeOutcome)] = []
        var computeMs: UInt64
        var dieAt: UInt64?
        var poison = false
        var corrupt = false
        /// How this worker's RESULTs are falsified on the wire (Simulation+Faults.swift).
        var corruption: Corruption?
        var exited: String?? = .none
        /// The peak resident bytes this worker's RESULTs report, as the worker shell stamps them.
        var peakResidentBytes: UInt64?
    }

    struct Packet {
        var at: UInt64
        var toCoordinator: Bool
        var worker: Int
        var frames: [[UInt8]]
        /// A RESULT the sender's `corruption` changed (Simulation+Liar.swift).
        var falsified = false
    }

    var now: UInt64 = 0
    var coordinator: CoordinatorCore
    var workers: [SimWorker] = []
    var network: [Packet] = []
    var outcome: CoordinatorOutcome?
    /// Until when the coordinator works between the phases without serving, and whether its
    /// planned pause was taken (Simulation+Pause.swift).
    var pausedUntil: UInt64?
    var pauseTaken = false
    /// Every journal record the coordinator asked to persist, with when (Simulation+Restart).
    var journal: [(at: UInt64, record: JournalRecord)] = []
    let inputs: SimulationInputs
    let latencyMs: UInt64 = 2
    var logs: [String] = []
    var faults: Faults?
    /// Timed faults: stalls, partitions (crashes, joins and corruptions are installed into the
    /// workers by `install`).
    var plan: FaultPlan?
    /// Task outcomes shared by runs of the same fixture (computed by a real dispatcher once).
    var memo: ComputeMemo?
    /// The coordinator was stopped (SIGTERM) and only flushes until its restart (Simulation+Stop.swift).
    var stopped = false
    /// Tasks a plausible liar lied about to the current coordinator (Simulation+Liar.swift).
    var lies = Lies()
    /// A new coordinator core for this job with the given epoch (a restart from the journal).
    let makeCoordinator: @Sendable (_ epoch: UInt64) -> CoordinatorCore

    /// A seeded unreliable network.
    struct Faults {
        var state: UInt64
        var loss: Double
        var duplication: Double
        var maxDelayMs: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        mutating func chance(_ p: Double) -> Bool { Double(next() % 1_000_000) < p * 1_000_000 }
    }
    /// Set to run a quantize phase after the sensitivity phase.
    var quantize: QuantizeWorkSpec?
    /// Set to solve the plan between the phases as the cluster job does (ClusterJob.solvePlan on
    /// the assembled sensitivities); the quantize phase then takes the plan's widths.
    var planStep: (step: ClusterJob.PlanStep, job: SensitivityJob, options: TraceOptions)?
    /// plan.json's bytes, once the plan step ran.
    var planData: Data?
    var graph: Graph?
    var estimates: [LayerEstimate]?
    /// Widths of the quantization-error tasks, if the coordinator was given some.
    var errorBits: [Int]?
    /// Workers added at this time (late join).
    var joinLater: [(at: UInt64, computeMs: UInt64, name: String?)] = []
    /// Quantize RESULT bodies above this go as blobs the coordinator pulls (nil: the protocol's limit).
    var inlineResultBytes: Int?
    /// Every sensitivity task covering this batch fails on every worker, with this class.
    var poisonBatch: (Int, FailureClass)?

    init(inputs: SimulationInputs, options: TraceOptions, workers: Int, config: CoordinatorConfig = CoordinatorConfig(epoch: 7),
         tasksPerWorker: Int? = 4, macsPerExample: Int? = nil, quantizeFollows: Bool = false, errorBits: [Int]? = nil,
         activations: ActivationRequest? = nil, measuredBits: [Int]? = nil) {
        self.errorBits = errorBits
        self.inputs = inputs
        let spec = SensitivityWorkSpec(job: inputs.job, source: SimulationInputs.source, probesPerCall: inputs.probesPerCall)
        makeCoordinator = { epoch in
            var restarted = config
            restarted.epoch = epoch
            return CoordinatorCore(config: restarted, spec: spec, options: options, workers: workers, tasksPerWorker: tasksPerWorker,
                                   macsPerExample: macsPerExample, quantizeFollows: quantizeFollows,
                                   quantizationErrors: errorBits.map { QuantizationErrorWorkSpec(modelPath: SimulationInputs.modelPath, bits: $0) },
                                   activations: activations, measuredBits: measuredBits)
        }
        coordinator = makeCoordinator(config.epoch)
    }

    mutating func addWorker(computeMs: UInt64 = 30, name: String? = nil) {
        let i = workers.count
        var config = WorkerConfig(name: name ?? "w\(i)", instance: UInt64(1000 + i))
        config.slots = 2
        if let inlineResultBytes { config.inlineResultBytes = inlineResultBytes }
        workers.append(SimWorker(core: WorkerCore(config: config), peer: Array("peer-\(i)".utf8),
                                 dispatcher: ComputeDispatcher(read: inputs.read), computeMs: computeMs))
        apply(workers[i].core.handle(.tick, now: now), worker: i)
    }

    mutating func post(toCoordinator: Bool, worker: Int, _ message: WireMessage) {
        // through the codec, as on a socket
        guard var frames = try? WireCodec.encode(message) else { XCTFail("cannot encode \(message)"); return }
        var falsified = false
        if toCoordinator, let corruption = workers[worker].corruption {
            let honest = frames
            frames = corruption.apply(frames)
            falsified = frames != honest
        }
        if partitioned(worker, at: now) { return }   // cut off: nothing leaves
        guard var faults else {
            network.append(Packet(at: now + latencyMs, toCoordinator: toCoordinator, worker: worker, frames: frames, falsified: falsified))
            return
        }
        // seeded loss, duplication and delay (which also reorders)
        let copies = faults.chance(faults.loss) ? 0 : faults.chance(faults.duplication) ? 2 : 1
        for _ in 0..<copies {
            network.append(Packet(at: now + latencyMs + faults.next() % faults.maxDelayMs, toCoordinator: toCoordinator,
                                  worker: worker, frames: frames, falsified: falsified))
        }
        self.faults = faults
    }

    mutating func apply(_ actions: [WorkerAction], worker i: Int) {
        for action in actions {
            switch action {
            case .send(var m):
                if let peak = workers[i].peakResidentBytes, case .result(var r) = m { r.peakResidentBytes = peak; m = .result(r) }
                post(toCoordinator: true, worker: i, m)
            case .compute(let request):
                let outcome: ComputeOutcome
                if workers[i].poison {
                    outcome = .failure(.poison, "out of memory (simulated)")
                } else if let failureClass = poisoned(request.work) {
                    outcome = .failure(failureClass, "out of memory (simulated)")
                } else if let memo, let known = memo.outcome(request.work) {
                    outcome = known
                } else {
                    var computed = workers[i].dispatcher.compute(request)
                    if workers[i].corrupt, case .success(var r) = computed {
                        r.values.removeLast()
                        computed = .success(r)
                    }
                    outcome = computed
                    if !workers[i].corrupt { memo?.store(request.work, outcome) }
                }
                workers[i].computing.append((now + workers[i].computeMs, request.taskID, request.leaseID, outcome))
            case .reconnect:
                // the shell closes its DEALER: what was on the way to it is lost with the connection
                network.removeAll { !$0.toCoordinator && $0.worker == i }
            case .log(let s): logs.append("w\(i): \(s)")
            case .exit(let why):
                // the worker shell returns or throws: the process ends
                logs.append("w\(i): exits (\(why ?? "job complete"))")
                workers[i].exited = .some(why)
                workers[i].alive = false
                workers[i].computing = []
            }
        }
    }

    mutating func apply(_ actions: [CoordinatorAction]) {
        for action in actions {
            switch action {
            case .send(let peer, let m):
                if let i = workers.firstIndex(where: { $0.peer == peer }) { post(toCoordinator: false, worker: i, m) }
            case .disconnect: break
            case .log(let s): logs.append("c: \(s)")
            case .persist(let r): journal.append((now, r))
            case .finish(let o):
                if !stopped { outcome = o }   // a stopped core's end is not the job's (Simulation+Stop.swift)
            case .phaseComplete(let e):
                guard !stopped else { continue }
                estimates = e
                if let planStep, let graph {
                    do {
                        let result = try ClusterJob.sensitivityResult(e, core: coordinator, job: planStep.job, graph: graph,
                                                                      options: planStep.options, fallback: nil)
                        var report = SensitivityReport(result, options: planStep.options, modelDigest: "sha256:sim", dataDigest: nil)
                        if coordinator.measuredCells != nil { try ClusterJob.addMeasured(&report, core: coordinator, job: planStep.job) }
                        let (plan, widths) = try ClusterJob.solvePlan(report, sensitivityData: try report.encoded(), step: planStep.step,
                                                                      graph: graph, source: "sim")
                        planData = plan
                        quantize = QuantizeWorkSpec(modelPath: SimulationInputs.modelPath, weightBits: widths.map(\.weightBits))
                    } catch {
                        logs.append("c: the plan step failed: \(error)")
                        outcome = .failed("the plan step failed: \(error)")
                        continue
                    }
                }
                if pauseBetweenPhases() { continue }   // the quantize phase starts when the pause ends
                startQuantizePhase()
            }
        }
    }

    /// The quantize phase, as the cluster job starts it once the plan is solved.
    mutating func startQuantizePhase() {
        guard let quantize, let graph else { return }
        apply(coordinator.startQuantize(quantize, graph: graph, plan: planData.map { [UInt8]($0) } ?? Array("{\"plan\":1}".utf8), now: now))
    }

    /// Runs until the coordinator finishes or `limitMs` of simulated time pass (or `until` holds
    /// after a step). Time jumps from one event to the next (nothing happens in between), so long
    /// idle stretches cost nothing.
    mutating func run(limitMs: UInt64 = 600_000, until: (Simulation) -> Bool = { _ in false }) {
        if !coordinatorDown(at: now) && !stopped { apply(coordinator.handle(.tick, now: now)) }
        var drainUntil: UInt64?
        while now < (drainUntil ?? limitMs) {
            if outcome != nil && drainUntil == nil { drainUntil = now + 50 }   // deliver the DISCONNECTs
            now = nextEvent(until: drainUntil ?? limitMs)
            for j in joinLater.indices.reversed() where joinLater[j].at <= now {
                addWorker(computeMs: joinLater[j].computeMs, name: joinLater[j].name)
                joinLater.remove(at: j)
            }
            for i in workers.indices where workers[i].alive {
                if let die = workers[i].dieAt, die <= now { workers[i].alive = false; workers[i].computing = [] }
            }
            beginStalls(now)
            crashCoordinatorIfPlanned(now)
            stopCoordinatorIfPlanned(now)
            endPauseIfDue(now)
            let coordinatorDown = coordinatorDown(at: now)
            if coordinatorDown { network.removeAll { $0.at <= now && $0.toCoordinator } }   // lost with the process
            // a stalled worker's packets wait in its socket buffer until it runs again
            let frozen = Set(workers.indices.filter { stalled($0, at: now) })
            // and a pausing coordinator's wait in its socket until it serves again
            let paused = pausedUntil != nil
            let due = network.filter { $0.at <= now && ($0.toCoordinator ? !paused : !frozen.contains($0.worker)) }
            network.removeAll { $0.at <= now && ($0.toCoordinator ? !paused : !frozen.contains($0.worker)) }
            for packet in due {
                guard workers[packet.worker].alive else { continue }   // a dead worker neither sends nor receives
                if partitioned(packet.worker, at: now) { continue }
                let event: Result<WireMessage, WireError>
                do throws(WireError) { event = .success(try WireCodec.decode(packet.frames)) } catch { event = .failure(error) }
                if packet.toCoordinator {
                    let peer = workers[packet.worker].peer
                    switch event {
                    case .success(let m):
                        let duplicatesBefore = coordinator.duplicates
                        let actions = coordinator.handle(.message(peer: peer, m), now: now)
                        if packet.falsified { noteLie(packet.worker, m, duplicate: coordinator.duplicates > duplicatesBefore, actions) }
                        apply(actions)
                    case .failure(let e): apply(coordinator.handle(.malformed(peer: peer, e), now: now))
                    }
                } else {
                    guard case .success(let m) = event else { XCTFail("undecodable from the coordinator"); continue }
                    apply(workers[packet.worker].core.handle(.message(m), now: now), worker: packet.worker)
                }
            }
            for i in workers.indices where workers[i].alive && !stalled(i, at: now) {
                let ready = workers[i].computing.filter { $0.at <= now }
                workers[i].computing.removeAll { $0.at <= now }
                for c in ready {
                    apply(workers[i].core.handle(.computed(taskID: c.taskID, leaseID: c.leaseID, c.outcome), now: now), worker: i)
                }
            }
            if now % 100 == 0 {
                // no ticks for a coordinator that is down or stopped (it only flushes); the workers' timers run on
                if !coordinatorDown && !stopped && pausedUntil == nil { apply(coordinator.handle(.tick, now: now)) }
                for i in workers.indices where workers[i].alive && !stalled(i, at: now) {
                    apply(workers[i].core.handle(.tick, now: now), worker: i)
                }
            }
            if until(self) { return }
        }
    }

    /// The next millisecond at which anything happens (at least now + 1, at most `limit`).
    func nextEvent(until limit: UInt64) -> UInt64 {
        var next = (now / 100 + 1) * 100   // the next tick
        for p in network where p.toCoordinator ? pausedUntil == nil : !stalled(p.worker, at: now) { next = min(next, p.at) }
        if let pausedUntil { next = min(next, pausedUntil) }
        for (i, w) in workers.enumerated() where w.alive {
            if let die = w.dieAt { next = min(next, die) }
            if !stalled(i, at: now) { for c in w.computing { next = min(next, c.at) } }
        }
        for j in joinLater { next = min(next, j.at) }
        for t in plan?.boundaries ?? [] where t > now { next = min(next, t) }
        return min(limit, max(now + 1, next))
    }
}
