import Foundation
import HutchClusterCore
import HutchSensitivity
import HutchTestSupport
import HutchWire

/// Seeded fault schedules for the simulator. A plan is plain data: the network's loss,
/// duplication and delay, and a list of timed faults. A new fault kind is a case of `Fault`, a
/// line in `install` or a query below, and (if it should be random) a line in `seeded`.
extension Simulation {
    enum Fault: Sendable, Equatable, CustomStringConvertible {
        /// The worker process dies for good (SIGKILL): nothing more in or out.
        case crash(worker: Int, at: UInt64)
        /// The worker process is frozen (SIGSTOP) for `ms`: its computations pause, messages to
        /// it wait in its socket buffer, it sends nothing; then it runs on with its stale leases.
        case stall(worker: Int, at: UInt64, ms: UInt64)
        /// The worker is cut off from the coordinator for `ms`: messages both ways are lost.
        case partition(worker: Int, at: UInt64, ms: UInt64)
        /// A new worker process joins (e.g. a crashed one restarted under its old name).
        case join(at: UInt64, computeMs: UInt64, name: String?)
        /// The worker falsifies every RESULT it sends.
        case corrupt(worker: Int, Corruption)
        /// The coordinator process dies (SIGKILL) and is restarted `downMs` later from its journal
        /// (Simulation+Restart.swift): records appended less than `syncWindowMs` before the crash
        /// are lost, a torn piece `tearBytes` long of the first lost one ends the file, and
        /// messages to it while it is down are lost.
        case coordinatorCrash(at: UInt64, downMs: UInt64, syncWindowMs: UInt64, tearBytes: Int)
        /// The coordinator is stopped gracefully (SIGTERM) and restarted from its journal `downMs`
        /// later (Simulation+Stop.swift): DISCONNECT(shutdown) to its workers, `flushMs` more of
        /// serving messages, every record synced; messages to it after the flush are lost.
        case coordinatorStop(at: UInt64, downMs: UInt64)
        /// At its first phase end the coordinator works `ms` before it starts the quantize phase,
        /// without serving (Simulation+Pause.swift): no ticks, messages to it wait in its socket.
        case coordinatorPause(ms: UInt64)

        var description: String {
            switch self {
            case .crash(let w, let at): "crash w\(w) @\(at)"
            case .stall(let w, let at, let ms): "stall w\(w) @\(at)+\(ms)"
            case .partition(let w, let at, let ms): "partition w\(w) @\(at)+\(ms)"
            case .join(let at, let c, let name): "join \(name ?? "new") @\(at) (\(c) ms/task)"
            case .corrupt(let w, let c): "corrupt w\(w) \(c)"
            case .coordinatorCrash(let at, let down, let sync, let tear):
                "coordinator crash @\(at)+\(down) (sync window \(sync) ms, torn \(tear) bytes)"
            case .coordinatorStop(let at, let down): "coordinator stop @\(at)+\(down)"
            case .coordinatorPause(let ms): "coordinator pause \(ms) ms between the phases"
            }
        }
    }

    /// How a dishonest or broken worker falsifies its RESULT frames on the wire.
    enum Corruption: Sendable, Equatable, CaseIterable {
        /// One value short (wrong shape); a quantize RESULT loses a body byte instead.
        case shortValues
        /// The first value replaced by NaN: the codec refuses the message.
        case nan
        /// The result claims the next task id.
        case wrongTask
        /// The body's echo of the task's ranges is altered.
        case wrongEcho
        /// A plausible wrong number: the first value scaled by 1 + 2⁻²⁰ (a quantize RESULT gets a
        /// bit of its body flipped). Valid by every check; only redundant execution sees it.
        case plausible

        /// The falsifications that fail validation.
        static let invalid: [Corruption] = [.shortValues, .nan, .wrongTask, .wrongEcho]

        func apply(_ frames: [[UInt8]]) -> [[UInt8]] {
            // RESULT: signature, command 0x06, task_id, lease_id, kind, blobs, body, values
            guard frames.count == 8, frames[1] == [0x06] else { return frames }
            var f = frames
            switch self {
            case .shortValues:
                if f[7].count >= 8 { f[7].removeLast(8) } else if !f[6].isEmpty { f[6].removeLast() }
            case .nan:
                if f[7].count >= 8 { f[7].replaceSubrange(0..<8, with: withUnsafeBytes(of: Double.nan.bitPattern.littleEndian, Array.init)) }
                else if !f[6].isEmpty { f[6].removeLast() }
            case .wrongTask:
                f[2][0] &+= 1
            case .wrongEcho:
                if f[6].count > 1 { f[6][1] ^= 0x01 } else { f[2][0] &+= 1 }
            case .plausible:
                if f[7].count >= 8 {
                    let bits = f[7][0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * $1.offset) }
                    let wrong = (Double(bitPattern: bits) * (1 + 0x1p-20)).bitPattern
                    f[7].replaceSubrange(0..<8, with: (0..<8).map { UInt8(truncatingIfNeeded: wrong >> (8 * $0)) })
                } else if let last = f[6].indices.last {
                    f[6][last] ^= 0x01
                }
            }
            return f
        }
    }

    /// A seeded network and a list of timed faults.
    struct FaultPlan: Sendable, CustomStringConvertible {
        var seed: UInt64
        var loss = 0.0
        var duplication = 0.0
        var maxDelayMs: UInt64 = 1
        var faults: [Fault] = []

        /// Times at which something starts or ends: the simulator's clock stops there.
        var boundaries: [UInt64] {
            faults.flatMap { f -> [UInt64] in
                switch f {
                case .stall(_, let at, let ms), .partition(_, let at, let ms), .coordinatorCrash(let at, let ms, _, _): [at, at + ms]
                case .coordinatorStop(let at, let ms): [at, at + Simulation.flushMs, at + ms]
                case .crash(_, let at), .join(let at, _, _): [at]
                case .corrupt, .coordinatorPause: []   // a pause's times are the phase end's (Simulation+Pause.swift)
                }
            }
        }

        /// The last moment a fault is active: after it the cluster runs undisturbed (apart from
        /// the network's loss, duplication and delay).
        var quietAfter: UInt64 { boundaries.max() ?? 0 }

        /// A random schedule for `workers` workers within `horizonMs`. Worker 0 never crashes and is
        /// never corrupt, so the job can always finish; every other fault may hit anyone.
        static func seeded(_ seed: UInt64, workers: Int, horizonMs: UInt64, livenessMs: UInt64) -> FaultPlan {
            var rng = SplitMix64(seed: seed)
            func pick(_ range: ClosedRange<UInt64>) -> UInt64 { range.lowerBound + rng.next() % (range.upperBound - range.lowerBound + 1) }
            var plan = FaultPlan(seed: seed)
            // network
            plan.loss = Double(pick(0...8)) / 100
            plan.duplication = Double(pick(0...8)) / 100
            plan.maxDelayMs = pick(1...30)
            // worker faults
            let others = workers > 1 ? UInt64(workers - 1) : 0
            if others > 0, pick(0...2) == 0 { plan.faults.append(.crash(worker: Int(1 + pick(0...others - 1)), at: pick(1...horizonMs))) }
            for _ in 0..<pick(0...2) {
                // frozen from a little under to well over the liveness window
                plan.faults.append(.stall(worker: Int(pick(0...UInt64(workers - 1))), at: pick(1...horizonMs), ms: pick(livenessMs / 2...livenessMs * 3)))
            }
            for _ in 0..<pick(0...2) {
                plan.faults.append(.partition(worker: Int(pick(0...UInt64(workers - 1))), at: pick(1...horizonMs), ms: pick(100...livenessMs * 3)))
            }
            for _ in 0..<pick(0...2) {
                // a fresh process, sometimes under a crashed worker's name (a supervisor restarted it)
                let restarted = plan.faults.compactMap { if case .crash(let w, _) = $0 { "w\(w)" } else { nil } }.first
                plan.faults.append(.join(at: pick(1...horizonMs), computeMs: pick(5...40), name: pick(0...1) == 0 ? restarted : nil))
            }
            if others > 0, pick(0...3) == 0 {
                plan.faults.append(.corrupt(worker: Int(1 + pick(0...others - 1)), Corruption.invalid[Int(pick(0...3))]))
            }
            // coordinator faults: a crash (SIGKILL) and restart from the journal in a third of the
            // runs, down from nothing to twice the liveness window (workers expire it and reconnect)
            for _ in 0..<(pick(0...2) == 0 ? pick(1...2) : 0) {
                plan.faults.append(.coordinatorCrash(at: pick(1...horizonMs), downMs: pick(0...livenessMs * 2),
                                                     syncWindowMs: pick(0...150), tearBytes: Int(pick(0...1) * pick(1...24))))
            }
            // (drawn last, so that the faults above stay what they were for every seed)
            // a graceful stop (SIGTERM) and restart in a third of the runs, down up to twice the liveness window
            if pick(0...2) == 0 {
                plan.faults.append(.coordinatorStop(at: pick(1...horizonMs), downMs: pick(Simulation.flushMs...livenessMs * 2)))
            }
            // with four workers, the corrupt one tells plausible lies half the time: only redundant
            // execution sees them, and it needs two honest processes to outvote it (one may crash)
            if workers >= 4, let i = plan.faults.firstIndex(where: { if case .corrupt = $0 { true } else { false } }), pick(0...1) == 0,
               case .corrupt(let w, _) = plan.faults[i] {
                plan.faults[i] = .corrupt(worker: w, .plausible)
            }
            // in a third of the runs, a coordinator that works between the phases without serving,
            // from a little under to well over the workers' liveness window (only runs with a
            // quantize phase have a phase end)
            if pick(0...2) == 0 { plan.faults.append(.coordinatorPause(ms: pick(livenessMs / 2...livenessMs * 3))) }
            return plan
        }

        /// The worker telling plausible lies, if any: the run needs every task verified.
        var liar: Int? {
            faults.lazy.compactMap { if case .corrupt(let w, .plausible) = $0 { w } else { nil } }.first
        }

        var description: String {
            "seed \(seed): loss \(loss), duplication \(duplication), delay ≤ \(maxDelayMs) ms; " + (faults.isEmpty ? "no faults" : faults.map(\.description).joined(separator: ", "))
        }
    }

    /// Installs `plan`: the network's randomness, and the faults that belong to a worker.
    mutating func install(_ plan: FaultPlan) {
        self.plan = plan
        faults = Faults(state: plan.seed, loss: plan.loss, duplication: plan.duplication, maxDelayMs: plan.maxDelayMs)
        for fault in plan.faults {
            switch fault {
            case .crash(let w, let at): if workers.indices.contains(w) { workers[w].dieAt = min(workers[w].dieAt ?? .max, at) }
            case .join(let at, let c, let name): joinLater.append((at: at, computeMs: c, name: name))
            case .corrupt(let w, let c): if workers.indices.contains(w) { workers[w].corruption = c }
            case .stall, .partition, .coordinatorCrash, .coordinatorStop, .coordinatorPause: break   // asked by the run loop
            }
        }
    }

    func stalled(_ worker: Int, at t: UInt64) -> Bool {
        plan?.faults.contains { if case .stall(worker, let at, let ms) = $0 { at <= t && t < at + ms } else { false } } ?? false
    }

    func partitioned(_ worker: Int, at t: UInt64) -> Bool {
        plan?.faults.contains { if case .partition(worker, let at, let ms) = $0 { at <= t && t < at + ms } else { false } } ?? false
    }

    func coordinatorDown(at t: UInt64) -> Bool {
        plan?.faults.contains {
            switch $0 {
            case .coordinatorCrash(let at, let ms, _, _): at <= t && t < at + ms
            case .coordinatorStop(let at, let ms): at + Simulation.flushMs <= t && t < at + ms   // the process has exited
            default: false
            }
        } ?? false
    }

    /// A coordinator crash planned for `t`: the new core is built and replays the synced journal
    /// at once (it is down, deaf and silent, until `downMs` have passed). A replay that fails
    /// fails the run.
    mutating func crashCoordinatorIfPlanned(_ t: UInt64) {
        guard outcome == nil else { return }
        for case .coordinatorCrash(let at, _, let sync, let tear) in plan?.faults ?? [] where at == t {
            do {
                try crashCoordinator(syncWindowMs: sync, tearBytes: tear, make: makeCoordinator)
            } catch {
                outcome = .failed("the restarted coordinator could not replay its journal: \(error)")
            }
        }
    }

    /// A frozen process's computations are frozen too: they end `ms` later.
    mutating func beginStalls(_ t: UInt64) {
        for case .stall(let w, let at, let ms) in plan?.faults ?? [] where at == t && workers.indices.contains(w) {
            for j in workers[w].computing.indices { workers[w].computing[j].at += ms }
        }
    }

    /// The failure class of a work item that fails on every worker (`poisonBatch`), if any.
    func poisoned(_ work: ComputeRequest.Work) -> FailureClass? {
        guard let (batch, failureClass) = poisonBatch, case .sensitivity(let task) = work, task.batches.contains(batch) else { return nil }
        return failureClass
    }
}

/// Outcomes of the real TaskRunner and quantizer, computed once per work item and shared by every
/// run of a fixture (a task's result depends only on the task: that is what is being tested).
final class ComputeMemo: @unchecked Sendable {
    enum Key: Hashable {
        case sensitivity(SensitivityTask)
        case eigenvalue(Int, Int)
        case quantizationError(Int)
        case quantize(Int)
        case activation(SensitivityTask)
        case measured(MeasuredTask)
        init(_ work: ComputeRequest.Work) {
            switch work {
            case .sensitivity(let t): self = .sensitivity(t)
            case .eigenvalue(let l, let n): self = .eigenvalue(l, n)
            case .quantizationError(let l): self = .quantizationError(l)
            case .quantize(let l): self = .quantize(l)
            case .activation(let t): self = .activation(t)
            case .measured(let t): self = .measured(t)
            }
        }
    }
    private let lock = NSLock()
    private var outcomes: [Key: ComputeOutcome] = [:]

    func outcome(_ work: ComputeRequest.Work) -> ComputeOutcome? {
        lock.lock(); defer { lock.unlock() }
        return outcomes[Key(work)]
    }

    func store(_ work: ComputeRequest.Work, _ outcome: ComputeOutcome) {
        lock.lock(); defer { lock.unlock() }
        outcomes[Key(work)] = outcome
    }
}
