import HutchClusterCore
import HutchQuantize
import HutchSensitivity
import HutchWire

/// What one seeded run must satisfy: it finishes with the one-process reference (traces, standard
/// errors and probe counts bit for bit; the quantized layers and quantization errors when the run
/// has them) within its time bound, or it fails, with its fault plan. There is no third verdict.
///
/// The bound grows with the plan: the end of its last fault plus `slackMs`, many times what an
/// undisturbed run of the slowest draw needs plus a few lease and liveness windows to recover. A
/// run still going then is stuck (a livelock, a lost lease or unit of credit, a worker that never
/// rejoins), not slow. A run with a plausible liar must also have struck every lie told to the
/// coordinator that finished the job (Simulation+Liar.swift).
enum SimulationProperty {
    static let horizonMs: UInt64 = 10_000

    struct Verdict: Sendable {
        enum Kind: Sendable { case finished, failed(String) }
        var kind: Kind
        var report: String
        var endMs: UInt64
        var faults: Int
        /// Coordinator crashes (SIGKILL) and stops (SIGTERM) that happened before the job was over,
        /// each followed by a restart from the journal.
        var crashes = 0, stops = 0
        /// Pauses the coordinator took between the phases without serving (Simulation+Pause.swift).
        var pauses = 0
        /// Plausible lies struck by the coordinator that finished the job, and whether the liar
        /// ended quarantined (nil: no liar in the plan).
        var liesStruck = 0, liarQuarantined: Bool?
    }

    static func scenario(_ seed: UInt64, _ f: SimulationFixtures) -> SimulationFixtures.Fixture {
        switch seed % 3 { case 0: f.mlpQuantize; case 1: f.tanhAdaptive; default: f.tanhErrors }
    }

    static func config(verifyFraction: Double = 0) -> CoordinatorConfig {
        var config = CoordinatorConfig(epoch: 3)
        config.leaseMs = 2000
        config.verifyFraction = verifyFraction
        return config
    }

    static func simulation(seed: UInt64, _ fixture: SimulationFixtures.Fixture) -> Simulation {
        let workers = 2 + Int(seed / 3 % 3)
        var config = config()
        let livenessMs = UInt64(config.liveness) * UInt64(config.heartbeatMs)
        let plan = Simulation.FaultPlan.seeded(seed, workers: workers, horizonMs: horizonMs, livenessMs: livenessMs)
        // every task runs twice when a worker tells plausible lies (nothing else catches them); part
        // of them on a quarter of the other runs with four workers (at most one crashes and one is
        // quarantined or lies, so two processes remain to agree)
        if plan.liar != nil { config.verifyFraction = 1 } else if workers == 4 && seed % 4 == 1 { config.verifyFraction = 0.5 }
        var sim = Simulation(inputs: fixture.inputs, options: fixture.options, workers: workers, config: config,
                             quantizeFollows: fixture.quantize != nil, errorBits: fixture.errors?.bits, activations: fixture.activations?.request,
                             measuredBits: fixture.measured?.bits)
        sim.graph = fixture.graph
        sim.installPhases(fixture)
        sim.memo = fixture.memo
        // half of the quantize runs send every layer as a blob the coordinator pulls in chunks
        if fixture.quantize != nil && seed % 2 == 0 { sim.inlineResultBytes = 64 }
        for w in 0..<workers { sim.addWorker(computeMs: 5 + (seed &* 31 &+ UInt64(w) &* 17) % 36) }
        sim.install(plan)
        return sim
    }

    /// An undisturbed run of the slowest draw: two workers at 40 ms a task, every task verified.
    static func undisturbedMs(_ fixture: SimulationFixtures.Fixture) throws -> UInt64 {
        var sim = Simulation(inputs: fixture.inputs, options: fixture.options, workers: 2, config: config(verifyFraction: 1),
                             quantizeFollows: fixture.quantize != nil, errorBits: fixture.errors?.bits, activations: fixture.activations?.request,
                             measuredBits: fixture.measured?.bits)
        sim.graph = fixture.graph
        sim.installPhases(fixture)
        sim.memo = fixture.memo
        for _ in 0..<2 { sim.addWorker(computeMs: 40) }
        sim.run()
        guard sim.outcome != nil else { throw SimError() }
        return sim.now
    }

    /// After the last fault: twenty undisturbed runs, twenty lease and five liveness windows. What
    /// the runs need then is mostly lost messages waiting out a lease (a lost session, a liveness
    /// window): the worst of seeds 1...40000 needed 33 s, 16 leases; the tail shrinks about sevenfold
    /// every 5 s.
    static func slackMs(_ fixture: SimulationFixtures.Fixture, _ config: CoordinatorConfig) -> UInt64 {
        20 * fixture.undisturbedMs + 20 * UInt64(config.leaseMs) + 5 * UInt64(config.liveness) * UInt64(config.heartbeatMs)
    }

    /// `logLines`: how much of the end of the run's log the report shows.
    static func check(seed: UInt64, _ fixtures: SimulationFixtures, logLines: Int = 0) -> Verdict {
        let fixture = scenario(seed, fixtures)
        var sim = simulation(seed: seed, fixture)
        let plan = sim.plan ?? Simulation.FaultPlan(seed: seed)
        let boundMs = plan.quietAfter + slackMs(fixture, sim.coordinator.config)
        sim.run(limitMs: boundMs)
        let liar = plan.liar.map { sim.workers[$0].core.config.name }
        func verdict(_ kind: Verdict.Kind) -> Verdict {
            let verify = sim.coordinator.config.verifyFraction > 0 ? ", verify fraction \(sim.coordinator.config.verifyFraction)" : ""
            var report = "\(fixture.name), \(sim.workers.count) workers\(verify); \(plan); ended at \(sim.now) ms (bound \(boundMs) ms), "
                + "\(sim.coordinator.tasksDone) tasks done, \(sim.coordinator.duplicates) duplicates"
            if case .failed(let why) = kind {
                report = "seed \(seed) FAILED: \(why)\n  \(report)\n  rerun: HUTCH_SIM_SEED=\(seed) swift test -c release -Xswiftc -enable-testing --filter SimulationSeedTests/testOneSeed"
            }
            if logLines > 0 { report += "\n  log:\n    " + sim.logs.suffix(logLines).joined(separator: "\n    ") }
            return Verdict(kind: kind, report: report, endMs: sim.now, faults: plan.faults.count,
                           crashes: sim.logs.filter { $0.hasPrefix("c: crashed at") }.count,
                           stops: sim.logs.filter { $0.hasPrefix("c: stopped at") }.count,
                           pauses: sim.logs.filter { $0.hasPrefix("c: pauses") }.count,
                           liesStruck: sim.lies.count, liarQuarantined: liar.map { sim.coordinator.quarantine.names.contains($0) })
        }
        guard let outcome = sim.outcome else {
            return verdict(.failed("no result by the bound, \(boundMs - plan.quietAfter) ms after the last fault (\(sim.coordinator.tasksDone) done, "
                                   + "\(sim.coordinator.tasksQueued) queued, \(sim.coordinator.tasksLeased) leased, \(sim.coordinator.workerCount) sessions)"))
        }
        if let why = mismatch(outcome, sim, fixture) { return verdict(.failed(why)) }
        if let liar {
            if let why = sim.missedLie(by: liar) { return verdict(.failed(why)) }
            // strikes count per process and coordinator: three lies to this one quarantine the liar
            if sim.lies.count >= sim.coordinator.config.maxStrikes && !sim.coordinator.quarantine.names.contains(liar) {
                return verdict(.failed("\(liar) told \(sim.lies.count) lies to the last coordinator and was not quarantined"))
            }
        }
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
        case .quantized(let digests):
            guard let q = f.quantize, let e = sim.estimates else { return "a quantize phase that was not asked for" }
            guard let layers = try? sim.coordinator.quantizedLayers(digests) else { return "a quantized layer is missing from the layer store" }
            if bits(layers) != bits(q.layers) { return "quantized layers differ from the one-process quantizer's" }
            if let plan = f.plan, sim.planData != plan.bytes { return "plan.json differs from the one-process plan" }
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
        if let reference = f.activations?.cells {
            guard let got = sim.coordinator.activationCells, got.isComplete else { return "activation traces missing" }
            if activationBits(got) != activationBits(reference) { return "activation traces differ from the one-process cells" }
        }
        if let reference = f.measured {
            guard let got = sim.coordinator.measuredCells?.result(examples: f.reference.job.samples) else { return "measured losses missing" }
            if measuredBits(got) != measuredBits(reference.result) { return "measured losses differ from the one-process measurement" }
        }
        return nil
    }
}

/// Activation cells bit for bit, in canonical order.
func activationBits(_ cells: ActivationCells) -> [UInt64] {
    (0..<cells.batches).flatMap { b in
        (0..<max(cells.probes, 1)).flatMap { p in (0..<cells.values).map { cells.value(batch: b, probe: p, value: $0).bitPattern } }
    } + [UInt64(cells.probes)]
}

/// A measured objective bit for bit: the base loss, then each layer's increases by ascending width.
func measuredBits(_ r: (baseLoss: Double, increases: [[Int: Double]])) -> [UInt64] {
    [r.baseLoss.bitPattern] + r.increases.flatMap { byWidth in byWidth.keys.sorted().flatMap { [UInt64($0), byWidth[$0]!.bitPattern] } }
}

/// Quantized layers bit for bit: each one's index, node and packed weight file (name, shape,
/// axis, width, the scales' and zero points' bits, the codes): what the worker sends and the
/// quantized model is written from, rather than `==` on Float scales.
func bits(_ layers: [QuantizedLayer]) -> [String] {
    layers.map { layer in
        let packed = (try? QuantizeBodies.resultBody(layer)).map { $0.map { String($0, radix: 16) }.joined(separator: ",") }
        return "\(layer.index) \(layer.node) " + (packed ?? "unencodable")
    }
}

extension Simulation {
    /// The fixture's phases after the traces: its plan step (the quantize widths then come from
    /// the plan, as in the cluster job) or a quantize phase with fixed widths.
    mutating func installPhases(_ fixture: SimulationFixtures.Fixture) {
        quantize = fixture.plan == nil ? fixture.quantize?.spec : nil
        planStep = fixture.plan.map { ($0.step, fixture.reference.job, fixture.options) }
    }
}
