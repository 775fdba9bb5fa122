import Foundation
import HutchCluster
import HutchModel
import HutchQuantize
import HutchSensitivity
import HutchWire
import XCTest

/// Thousands of seeded runs of the whole cluster (real coordinator and worker cores, the real
/// codec, the real TaskRunner and quantizer) under seeded fault plans. The property: every run
/// finishes with the one-process reference bit for bit, or hits its time bound while still
/// making progress (`SimulationProperty`). A failing seed prints itself and how to rerun it.
///
///   HUTCH_SIM_RUNS=N     runs (default 5000; `make soak` runs 100000)
///   HUTCH_SIM_FIRST=S    first seed (default 1)
///   HUTCH_SIM_SEED=S     `testOneSeed` runs only seed S and prints its plan and log
final class SimulationSeedTests: XCTestCase {
    static let env = ProcessInfo.processInfo.environment

    func testSeededFaultPlans() throws {
        let runs = Int(Self.env["HUTCH_SIM_RUNS"] ?? "") ?? 5000
        let first = UInt64(Self.env["HUTCH_SIM_FIRST"] ?? "") ?? 1
        let fixtures = try SimulationFixtures.shared()
        let started = Date()
        let tally = Tally()
        // two lanes: the cores are pure values, the fixtures read-only, the memo locked
        DispatchQueue.concurrentPerform(iterations: 2) { lane in
            for k in stride(from: lane, to: runs, by: 2) {
                let verdict = SimulationProperty.check(seed: first + UInt64(k), fixtures)
                tally.add(verdict)
                if tally.failures.count > 20 { return }
            }
        }
        let seconds = Date().timeIntervalSince(started)
        print("simulation: \(tally.count) seeded runs in \(String(format: "%.1f", seconds)) s: \(tally.finished) finished bit-identical, "
              + "\(tally.progressing) hit the bound still progressing, \(tally.failures.count) failed; "
              + "\(tally.faults) faults injected, \(tally.restarts) coordinator restarts from the journal, \(tally.simulatedMs / 1000) s simulated")
        for failure in tally.failures.prefix(20) { XCTFail(failure) }
        XCTAssertEqual(tally.count, runs)
        // the plans crash the coordinator in about a third of the runs; most crashes come before the end
        XCTAssertGreaterThan(tally.restarts, runs / 5, "coordinator crashes and restarts from the journal")
    }

    /// Reruns one seed exactly (HUTCH_SIM_SEED), with its fault plan and the end of its log.
    func testOneSeed() throws {
        guard let seed = UInt64(Self.env["HUTCH_SIM_SEED"] ?? "") else { throw XCTSkip("set HUTCH_SIM_SEED to rerun one seed") }
        let verdict = SimulationProperty.check(seed: seed, try SimulationFixtures.shared(), keepLog: true)
        print(verdict.report)
        if case .failed(let why) = verdict.kind { XCTFail(why) }
    }

    /// The same seed twice gives the same run, event for event (what makes a failing seed useful).
    func testASeedReproducesExactly() throws {
        let fixtures = try SimulationFixtures.shared()
        for seed in [3, 17, 40] as [UInt64] {
            let a = SimulationProperty.check(seed: seed, fixtures, keepLog: true)
            let b = SimulationProperty.check(seed: seed, fixtures, keepLog: true)
            XCTAssertEqual(a.report, b.report, "seed \(seed)")
            XCTAssertEqual(a.endMs, b.endMs, "seed \(seed)")
        }
    }

    final class Tally: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var count = 0, finished = 0, progressing = 0, faults = 0, restarts = 0
        private(set) var simulatedMs: UInt64 = 0
        private(set) var failures: [String] = []
        func add(_ v: SimulationProperty.Verdict) {
            lock.lock(); defer { lock.unlock() }
            count += 1
            faults += v.faults
            restarts += v.restarts
            simulatedMs += v.endMs
            switch v.kind {
            case .finished: finished += 1
            case .progressing: progressing += 1
            case .failed: failures.append(v.report)
            }
        }
    }
}

/// The reference results the simulated cluster must reproduce, computed once per test process.
struct SimulationFixtures: Sendable {
    struct Fixture: Sendable {
        var name: String
        var runner: TaskRunner
        var options: TraceOptions
        var reference: SensitivityResult
        var graph: Graph
        var memo = ComputeMemo()
        /// Quantize phase: the plan's widths and the one-process quantizer's layers.
        var quantize: (spec: QuantizeWorkSpec, layers: [QuantizedLayer])?
        /// Quantization-error tasks: widths and the one-process values.
        var errors: (bits: [Int], values: [[Int: Double]])?
    }
    var mlpQuantize: Fixture
    var tanhAdaptive: Fixture
    var tanhErrors: Fixture

    nonisolated(unsafe) private static var cached: SimulationFixtures?
    private static let lock = NSLock()

    static func shared() throws -> SimulationFixtures {
        lock.lock(); defer { lock.unlock() }
        if let cached { return cached }
        let made = try make()
        cached = made
        return made
    }

    /// mlp (ReLU: exact) or tanh_mlp (Hutchinson, adaptive rounds), 12 examples in batches of 4,
    /// with its one-process reference (also CoordinatorCoreTests' setup).
    static func fixture(_ name: String, hutchinson: Bool) throws -> Fixture {
        let root = CoordinatorCoreTests.root
        let graph = try ONNXLoader.load(contentsOf: root.appendingPathComponent("Tests/Fixtures/\(name).onnx"))
        let dataset = try Dataset(npz: root.appendingPathComponent("Tests/Fixtures/\(name)_ref.npz"))
        var options = TraceOptions()
        options.method = hutchinson ? .hutchinson : .exact
        options.batchSize = 4
        options.bits = []
        options.probesPerCall = 2
        options.tolerance = 0.2
        options.maxProbes = 12
        options.probesPerRound = 4
        options.mode = .layer
        let reference = try SensitivityAnalysis.run(graph: graph, dataset: dataset, options: options)
        let runner = try TaskRunner(graph: graph, dataset: dataset, job: reference.job, probesPerCall: options.probesPerCall)
        return Fixture(name: name, runner: runner, options: options, reference: reference, graph: graph)
    }

    static func make() throws -> SimulationFixtures {
        var mlp = try fixture("mlp", hutchinson: false)
        let bits = mlp.graph.quantizableLayers.indices.map { [4, 8, 3][$0 % 3] }
        let layers = try ModelQuantizer(graph: mlp.graph, widths: bits.map { LayerWidths(weightBits: $0) }).quantize(calibration: nil).layers
        mlp.name = "mlp exact + quantize phase"
        mlp.quantize = (QuantizeWorkSpec(modelPath: "unused.onnx", weightBits: bits), layers)
        var tanh = try fixture("tanh_mlp", hutchinson: true)
        tanh.name = "tanh_mlp adaptive Hutchinson"
        var errors = try fixture("tanh_mlp", hutchinson: true)
        errors.name = "tanh_mlp + quantization-error tasks"
        errors.errors = ([2, 4, 8], try QuantizationErrors.compute(errors.graph, bits: [2, 4, 8]))
        return SimulationFixtures(mlpQuantize: mlp, tanhAdaptive: tanh, tanhErrors: errors)
    }
}

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
