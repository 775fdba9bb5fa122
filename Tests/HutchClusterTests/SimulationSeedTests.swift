import Foundation
import HutchAllocation
import HutchClusterCore
import HutchJobs
import HutchModel
import HutchQuantize
import HutchSensitivity
import HutchWire
import XCTest

/// Thousands of seeded runs of the whole cluster (real coordinator and worker cores, the real
/// codec, the real TaskRunner and quantizer) under seeded fault plans. The property: every run
/// finishes with the one-process reference bit for bit within a bound that grows with its plan
/// (`SimulationProperty`). A failing seed prints itself and how to rerun it.
///
///   HUTCH_SIM_RUNS=N     runs (default 5000; `make soak` runs 100000)
///   HUTCH_SIM_FIRST=S    first seed (default 1)
///   HUTCH_SIM_SEED=S     `testOneSeed` runs only seed S and prints its plan and log
///   HUTCH_SIM_LOG=N      how many of the last log lines `testOneSeed` prints (default 40)
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
              + "\(tally.failures.count) failed; \(tally.faults) faults injected, \(tally.crashes) coordinator crashes and "
              + "\(tally.stops) stops restarted from the journal, \(tally.pauses) pauses between the phases, \(tally.liars) plausible liars (\(tally.liesStruck) lies struck, "
              + "\(tally.liarsQuarantined) quarantined), \(tally.simulatedMs / 1000) s simulated")
        for failure in tally.failures.prefix(20) { XCTFail(failure) }
        XCTAssertEqual(tally.count, runs)
        XCTAssertEqual(tally.finished, runs, "every run finishes with the reference")
        // the plans crash the coordinator (once or twice) in about a third of the runs and stop it in
        // a third; most crashes and about two thirds of the stops come before the end. One run in 24
        // has a plausible liar (four workers, one of them corrupt, lying half the time).
        XCTAssertGreaterThan(tally.crashes, runs / 5, "coordinator crashes and restarts from the journal")
        XCTAssertGreaterThan(tally.stops, runs / 8, "coordinator stops and restarts from the journal")
        // a third of the plans pause the coordinator between the phases; a third of the runs have a quantize phase
        XCTAssertGreaterThan(tally.pauses, runs / 15, "coordinator pauses between the phases")
        if runs >= 1000 {
            XCTAssertGreaterThan(tally.liars, runs / 50, "plausible liars")
            XCTAssertGreaterThan(tally.liesStruck, tally.liars, "plausible lies struck")
            XCTAssertGreaterThan(tally.liarsQuarantined, 0, "plausible liars quarantined")
        }
    }

    /// Reruns one seed exactly (HUTCH_SIM_SEED), with its fault plan and the end of its log.
    func testOneSeed() throws {
        guard let seed = UInt64(Self.env["HUTCH_SIM_SEED"] ?? "") else { throw XCTSkip("set HUTCH_SIM_SEED to rerun one seed") }
        let verdict = SimulationProperty.check(seed: seed, try SimulationFixtures.shared(), logLines: Int(Self.env["HUTCH_SIM_LOG"] ?? "") ?? 40)
        print(verdict.report)
        if case .failed(let why) = verdict.kind { XCTFail(why) }
    }

    /// The plan phase is the cluster job's own (ClusterJob.solvePlan on the assembled traces):
    /// a seeded run writes the one-process plan.json bit for bit and quantizes to its mixed
    /// widths; a run whose plan differed from the one-process plan would fail the property.
    func testTheRealPlanStepRunsBetweenThePhases() throws {
        let fixtures = try SimulationFixtures.shared()
        let seed: UInt64 = 3   // seed % 3 == 0: the mlp plan + quantize scenario
        var sim = SimulationProperty.simulation(seed: seed, fixtures.mlpQuantize)
        sim.run()
        let plan = try XCTUnwrap(fixtures.mlpQuantize.plan)
        XCTAssertEqual(sim.planData, plan.bytes)
        let widths = try XCTUnwrap(sim.quantize?.weightBits)
        XCTAssertGreaterThan(Set(widths).count, 1, "a mixed-precision plan, not one width")
        guard case .quantized? = sim.outcome else { return XCTFail("the run did not quantize: \(String(describing: sim.outcome))") }
        var other = fixtures
        other.mlpQuantize.plan?.bytes = Data("{}".utf8)
        if case .finished = SimulationProperty.check(seed: seed, other).kind { XCTFail("a plan.json that differs was not caught") }
    }

    /// Quantized layers are compared bit for bit: a reference whose one scale differs in its last
    /// bit, or in sign, fails the property.
    func testAQuantizedLayerThatDiffersInOneBitIsCaught() throws {
        let fixtures = try SimulationFixtures.shared()
        let seed: UInt64 = 3   // the mlp plan + quantize scenario
        XCTAssertEqual(SimulationProperty.check(seed: seed, fixtures).report.contains("FAILED"), false)
        for flip in [{ (s: Float) in Float(bitPattern: s.bitPattern ^ 1) }, { (s: Float) in -s }] {
            var other = fixtures
            other.mlpQuantize.quantize?.layers[1].weight.parameters[0].scale = flip(fixtures.mlpQuantize.quantize!.layers[1].weight.parameters[0].scale)
            guard case .failed(let why) = SimulationProperty.check(seed: seed, other).kind else { return XCTFail("a changed scale was not caught") }
            XCTAssertEqual(why, "quantized layers differ from the one-process quantizer's")
        }
    }

    /// The same seed twice gives the same run, event for event (what makes a failing seed useful).
    func testASeedReproducesExactly() throws {
        let fixtures = try SimulationFixtures.shared()
        for seed in [3, 17, 40] as [UInt64] {
            let a = SimulationProperty.check(seed: seed, fixtures, logLines: 40)
            let b = SimulationProperty.check(seed: seed, fixtures, logLines: 40)
            XCTAssertEqual(a.report, b.report, "seed \(seed)")
            XCTAssertEqual(a.endMs, b.endMs, "seed \(seed)")
        }
    }

    final class Tally: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var count = 0, finished = 0, faults = 0, crashes = 0, stops = 0, pauses = 0
        private(set) var liars = 0, liesStruck = 0, liarsQuarantined = 0
        private(set) var simulatedMs: UInt64 = 0
        private(set) var failures: [String] = []
        func add(_ v: SimulationProperty.Verdict) {
            lock.lock(); defer { lock.unlock() }
            count += 1
            faults += v.faults
            crashes += v.crashes
            stops += v.stops
            pauses += v.pauses
            simulatedMs += v.endMs
            switch v.kind {
            case .finished:
                finished += 1
                if let quarantined = v.liarQuarantined {
                    liars += 1
                    liesStruck += v.liesStruck
                    if quarantined { liarsQuarantined += 1 }
                }
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
        /// The model and data files the simulated workers' dispatchers load.
        var inputs: SimulationInputs
        var options: TraceOptions
        var reference: SensitivityResult
        var graph: Graph
        var memo = ComputeMemo()
        /// Quantize phase: the plan's widths and the one-process quantizer's layers.
        var quantize: (spec: QuantizeWorkSpec, layers: [QuantizedLayer])?
        /// The plan step the cluster job runs between the phases, and the one-process plan.json
        /// (`hutch trace` + `hutch plan`) the simulated run must write bit for bit.
        var plan: (step: ClusterJob.PlanStep, bytes: Data)?
        /// Quantization-error tasks: widths and the one-process values.
        var errors: (bits: [Int], values: [[Int: Double]])?
        /// Activation-trace tasks (`--activations`) and the one-process cells.
        var activations: (request: ActivationRequest, cells: ActivationCells)?
        /// Measured-loss tasks (`--measured`): widths and the one-process measurement.
        var measured: (bits: [Int], result: (baseLoss: Double, increases: [[Int: Double]]))?
        /// How long an undisturbed run of the slowest draw takes (SimulationProperty.undisturbedMs).
        var undisturbedMs: UInt64 = 0
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
        let model = root.appendingPathComponent("Tests/Fixtures/\(name).onnx"), data = root.appendingPathComponent("Tests/Fixtures/\(name)_ref.npz")
        let graph = try ONNXLoader.load(contentsOf: model)
        let dataset = try Dataset(npz: data)
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
        let inputs = try SimulationInputs(model: model, data: data, job: reference.job, probesPerCall: options.probesPerCall)
        return Fixture(name: name, runner: runner, inputs: inputs, options: options, reference: reference, graph: graph)
    }

    /// `hutch trace --activations`' cells for the fixture: exact or as many probes as its traces took.
    static func activationReference(_ f: Fixture) throws -> (request: ActivationRequest, cells: ActivationCells) {
        let request = ActivationRequest(values: ActivationSensitivity.values(of: f.graph).count, probes: f.options.probes)
        let probes = f.reference.job.method == .exact ? 0
            : ActivationSensitivity.probeCount(asked: request.probes, weightProbes: f.reference.layers.map(\.probes))
        var cells = ActivationCells(batches: f.reference.job.batchCount, probes: probes, values: request.values)
        for task in cells.tasks(probesPerTask: .max) { try cells.add(task, f.runner.activationValues(task)) }
        return (request, cells)
    }

    static func make() throws -> SimulationFixtures {
        var mlp = try fixture("mlp", hutchinson: false)
        // the real plan step: the trace objective (no quantization errors needed) under 5 bits on
        // average, solved exactly, as hutch plan would on hutch trace's sensitivity.json
        let step: ClusterJob.PlanStep = (AllocationRequest(bits: [2, 3, 4, 8], objective: .trace, budgets: [.averageBits(5)]), .exact)
        let report = SensitivityReport(mlp.reference, options: mlp.options, modelDigest: "sha256:sim", dataDigest: nil)
        let (planBytes, widths) = try ClusterJob.solvePlan(report, sensitivityData: try report.encoded(), step: step, graph: mlp.graph, source: "reference")
        let layers = try ModelQuantizer(graph: mlp.graph, widths: widths).quantize(calibration: nil).layers
        mlp.name = "mlp exact + plan + quantize phase"
        mlp.quantize = (QuantizeWorkSpec(modelPath: SimulationInputs.modelPath, weightBits: widths.map(\.weightBits)), layers)
        mlp.plan = (step, planBytes)
        var tanh = try fixture("tanh_mlp", hutchinson: true)
        tanh.name = "tanh_mlp adaptive Hutchinson + activations"
        tanh.activations = try activationReference(tanh)
        var errors = try fixture("tanh_mlp", hutchinson: true)
        errors.name = "tanh_mlp + quantization-error, activation and measured-loss tasks"
        errors.activations = try activationReference(errors)
        errors.measured = ([2, 4, 8], try MeasuredLossIncrease(runner: errors.runner, bits: [2, 4, 8]).run())
        errors.errors = ([2, 4, 8], try QuantizationErrors.compute(errors.graph, bits: [2, 4, 8]))
        mlp.undisturbedMs = try SimulationProperty.undisturbedMs(mlp)
        tanh.undisturbedMs = try SimulationProperty.undisturbedMs(tanh)
        errors.undisturbedMs = try SimulationProperty.undisturbedMs(errors)
        return SimulationFixtures(mlpQuantize: mlp, tanhAdaptive: tanh, tanhErrors: errors)
    }
}
