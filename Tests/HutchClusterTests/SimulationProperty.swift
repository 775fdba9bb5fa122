import HutchCluster
import HutchSensitivity
import HutchWire

/// What one seeded run must satisfy.
///
/// A run has a time bound of `boundMs` simulated milliseconds. It passes if it finishes with the
/// reference (traces, standard errors and probe counts bit for bit; the
/// quantized layers and quantization errors when the run has them), or if at the bound it is
/// still making progress: the count of accepted tasks grew during the last `windowMs` of the run.
/// Anything else fails: a failed job, a wrong bit, or a run that stopped accepting results.
enum SimulationProperty {
    static let boundMs: UInt64 = 120_000
    static let windowMs: UInt64 = 20_000
    static let horizonMs: UInt64 = 10_000

    struct Verdict: Sendable {
        enum Kind: Sendable { case finished, progressing, failed(String) }
        var kind: Kind
        var report: String
        var endMs: UInt64
        var faults: Int
        /// Coordinator crashes that happened (the job was not over) and were restarted from the journal.
        var restarts = 0
    }

    static func scenario(_ seed: UInt64, _ f: SimulationFixtures) -> SimulationFixtures.Fixture {
        switch seed % 3 { case 0: f.mlpQuantize; case 1: f.tanhAdaptive; default: f.tanhErrors }
    }

    static func simulation(seed: UInt64, _ fixture: SimulationFixtures.Fixture) -> Simulation {
        var config = CoordinatorConfig(epoch: 3)
        config.leaseMs = 2000
        let workers = 2 + Int(seed / 3 % 3)
        // redundant execution on a quarter of the runs with four workers (at most one crashes and
        // one is quarantined, so two processes remain to agree)
        if workers == 4 && seed % 4 == 1 { config.verifyFraction = 0.5 }
        var sim = Simulation(runner: fixture.runner, options: fixture.options, workers: workers, config: config,
                             quantizeFollows: fixture.quantize != nil, errorBits: fixture.errors?.bits)
        sim.graph = fixture.graph
        sim.quantize = fixture.quantize?.spec
        sim.memo = fixture.memo
        for w in 0..<workers { sim.addWorker(computeMs: 5 + (seed &* 31 &+ UInt64(w) &* 17) % 36) }
        let livenessMs = UInt64(config.liveness) * UInt64(config.heartbeatMs)
        sim.install(.seeded(seed, workers: workers, horizonMs: horizonMs, livenessMs: livenessMs))
        return sim
    }

    static func check(seed: UInt64, _ fixtures: SimulationFixtures, keepLog: Bool = false) -> Verdict {
        let fixture = scenario(seed, fixtures)
        var sim = simulation(seed: seed, fixture)
        let plan = sim.plan.map(\.description) ?? ""
        sim.run(limitMs: boundMs - windowMs)
        let doneBefore = sim.coordinator.tasksDone
        if sim.outcome == nil { sim.run(limitMs: boundMs) }
        let faults = sim.plan?.faults.count ?? 0
        func verdict(_ kind: Verdict.Kind) -> Verdict {
            let verify = sim.coordinator.config.verifyFraction > 0 ? ", verify fraction \(sim.coordinator.config.verifyFraction)" : ""
            var report = "\(fixture.name), \(sim.workers.count) workers\(verify); \(plan); ended at \(sim.now) ms, "
                + "\(sim.coordinator.tasksDone) tasks done, \(sim.coordinator.duplicates) duplicates"
            if case .failed(let why) = kind {
                report = "seed \(seed) FAILED: \(why)\n  \(report)\n  rerun: HUTCH_SIM_SEED=\(seed) swift test -c release -Xswiftc -enable-testing --filter SimulationSeedTests/testOneSeed"
            }
            if keepLog { report += "\n  log:\n    " + sim.logs.suffix(40).joined(separator: "\n    ") }
            return Verdict(kind: kind, report: report, endMs: sim.now, faults: faults,
                           restarts: sim.logs.filter { $0.hasPrefix("c: crashed at") }.count)
        }
        guard let outcome = sim.outcome else {
            let done = sim.coordinator.tasksDone
            return verdict(done > doneBefore ? .progressing
                           : .failed("no result at the \(boundMs) ms bound and no task accepted in its last \(windowMs) ms (\(done) done, \(sim.coordinator.tasksQueued) queued, \(sim.coordinator.tasksLeased) leased)"))
        }
        if let why = mismatch(outcome, sim, fixture) { return verdict(.failed(why)) }
        return verdict(.finished)
    }

    /// Nil when the run's outputs equal the reference bit for bit; else the first difference.
    static func mismatch(_ outcome: CoordinatorOutcome, _ sim: Simulation, _ f: SimulationFixtures.Fixture) -> String? {
        let estimates: [LayerEstimate]
        switch outcome {
        case .failed(let why): return "the job failed: \(why)"
        case .sensitivity(let e):
            if f.quantize != nil { return "the job ended after the sensitivity phase, without its quantize phase" }
            estimates = e
        case .quantized(let layers):
            guard let q = f.quantize, let e = sim.estimates else { return "a quantize phase that was not asked for" }
            if layers != q.layers { return "quantized layers differ from the one-process quantizer's" }
            estimates = e
        }
        guard estimates.count == f.reference.layers.count else { return "\(estimates.count) layers, the reference has \(f.reference.layers.count)" }
        for (e, r) in zip(estimates, f.reference.layers) {
            if e.trace.bitPattern != r.trace.bitPattern { return "layer \(r.index): trace \(e.trace), reference \(r.trace)" }
            if e.standardError?.bitPattern != r.standardError?.bitPattern { return "layer \(r.index): standard error differs" }
            if e.probes != r.probes { return "layer \(r.index): \(e.probes ?? 0) probes, reference \(r.probes ?? 0)" }
        }
        if let reference = f.errors?.values {
            guard let got = sim.coordinator.quantizationErrors else { return "quantization errors missing" }
            if got.map({ $0.mapValues(\.bitPattern) }) != reference.map({ $0.mapValues(\.bitPattern) }) { return "quantization errors differ" }
        }
        return nil
    }
}
