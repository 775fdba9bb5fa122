import Foundation
import HutchAllocation
import HutchCluster
import HutchClusterCore
import HutchModel
import HutchQuantize
import HutchSensitivity
import HutchTensor
import HutchWire

/// The coordinator side of `hutch coordinator` and `hutch run`: opens the state directory,
/// replays its journal, serves what is left to workers over ZeroMQ, and writes the outputs:
/// sensitivity.json (the bytes `hutch trace` writes with the same options), and with a budget
/// plan.json and quantized.onnx.
public struct ClusterJob {
    /// The plan step: solved centrally after the traces, then quantized on the workers.
    public typealias PlanStep = (request: AllocationRequest, solver: SolverKind)

    public var inputs: JobInputs
    public var options: TraceOptions
    /// job.json, the journal and the outputs; the same job on the same directory resumes.
    public var stateDirectory: String
    public var bind: String
    /// Receives the results to print as they are written (the sensitivity table, the plan line).
    public var announce: (String) -> Void
    /// Nil: sensitivity.json only.
    public var plan: PlanStep?
    /// The `hutch plan` flags as given, recorded in job.json (a latency table by its digest).
    public var planFlags: [String: String] = [:]
    /// Workers expected, to size tasks so that all stay busy.
    public var expectedWorkers = 4
    public var tasksPerWorker: Int?
    /// The fraction of tasks run on two workers, accepted only when bit-identical.
    public var verifyFraction = 0.0
    /// The coordinator's compute threads (nil: all cores).
    public var threads: Int?
    /// `hutch run`'s worker processes; nil for `hutch coordinator`.
    public var localWorkers: LocalWorkers?
    /// The ROUTER's CURVE keys and admitted workers.
    public var curve: CurveServerConfig?
    /// Also HAWQ-V2's activation sensitivities, as `hutch trace --activations` (traces in
    /// activation tasks on the workers; quantization errors here, where the data is).
    public var activations = false
    /// Also the measured loss increase of each layer at each width, as `hutch trace --measured`
    /// (in measured-loss tasks on the workers: ClusterJob+Measured.swift).
    public var measured = false

    public init(inputs: JobInputs, options: TraceOptions, stateDirectory: String, bind: String, announce: @escaping (String) -> Void) {
        self.inputs = inputs
        self.options = options
        self.stateDirectory = stateDirectory
        self.bind = bind
        self.announce = announce
    }

    public func run() throws {
        let recorder = RunRecorder(command: localWorkers == nil ? "coordinator" : "run", expectedWorkers: expectedWorkers)
        if let threads { Kernels.setThreads(threads) }
        guard (0...1).contains(verifyFraction) else {
            throw CommandFailure(.usage, "--verify-fraction expects a fraction of the tasks between 0 and 1, got \(verifyFraction)")
        }
        if verifyFraction > 0, let localWorkers, localWorkers.count < 2 {
            throw CommandFailure(.usage, "--verify-fraction needs at least 2 workers (3 to settle a mismatch); add --workers 3")
        }
        // with or without a budget (the flag is recorded in planFlags either way)
        let askedWidths = plan?.request.activationCandidates.map { $0.map(String.init) }
            ?? planFlags["act-bits"].map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? []
        if Set(askedWidths).count > 1 && !activations {
            throw CommandFailure(.usage, "--act-bits with several widths needs activation sensitivities: add --activations")
        }
        let modelBytes = try ModelSource.mapFile(inputs.model, what: "model")   // the proto's tensors are slices of it
        let proto = try ONNXLoader.decode(storage: modelBytes, source: inputs.model)
        let modelDigest = Digest.sha256(modelBytes)   // for sensitivity.json
        let graph = try ONNXLoader.load(model: proto, source: inputs.model)
        let quantize = plan != nil
        // the examples the job reads (all, or --samples); calibration reads the open files again at the end
        let dataFiles = OpenDataFiles()
        let (dataset, dataDigest) = try inputs.loadData(keepingExamples: options.samples.map { max(1, $0) }, files: dataFiles)
        try dataset.validate(against: graph, modelName: inputs.model)
        if measured { try Self.checkMeasured(options: self.options, dataset: dataset) }

        // model and data files, served as blobs to workers that do not share this filesystem, a
        // chunk at a time from the files; a model with external data is served with its tensors
        // inside (one self-contained blob, written to the state directory)
        var source = Self.source(inputs)
        let files = [source.modelPath, source.dataNPZ, source.inputsNPY, source.labelsNPY].compactMap { $0 }
        let (blobs, inlinedModel) = try Self.servedBlobs(files, source: &source, proto: proto, path: inputs.model,
                                                             modelDigest: modelDigest, stateDirectory: stateDirectory)
        defer { if let inlinedModel { try? FileManager.default.removeItem(atPath: inlinedModel) } }
        var state = try StateDirectory.open(stateDirectory, job: try Self.jobDocument(planFlags: planFlags, options: self.options, activations: activations, measured: measured,
                                                                                   source: source, files: files,
                                                                                   schedule: .init(workers: expectedWorkers, tasksPerWorker: tasksPerWorker)))
        // `auto` is decided once, here, before serving (job.json keeps the choice for every resume)
        let recordedChoice = state.document.autoChoice
        let (options, newChoice) = try Self.resolveAuto(self.options, recorded: recordedChoice) {
            // results journaled without a recorded choice were computed under the structural rule
            state.records.isEmpty ? try SensitivityAnalysis.resolveAuto(graph: graph, dataset: dataset, options: self.options) : (self.options, nil)
        }
        if let newChoice {
            state = try state.recording(newChoice)
            log(newChoice.reason)
        } else if let recordedChoice {
            log("\(recordedChoice.reason) (decided when the job was created; job.json keeps it)")
        }
        let (job, fallback) = try SensitivityAnalysis.job(graph: graph, datasetCount: dataset.examplesInFiles, classTargets: dataset.hasClassTargets,
                                                               options: options)
        let journalPath = state.file("journal")
        var records = state.records[...]
        if state.complete {
            let expected = ["sensitivity.json"] + (quantize ? ["plan.json", "quantized.onnx"] : [])
            let missing = expected.filter { !FileManager.default.fileExists(atPath: state.file($0)) }
            guard !missing.isEmpty else {
                log("coordinator: the job in \(stateDirectory) is complete (\(state.records.count - 1) results journaled); its outputs are there")
                return
            }
            // every result is journaled: the replay alone writes the outputs again
            log("coordinator: the job in \(stateDirectory) is complete but \(missing.joined(separator: ", ")) is missing; writing the outputs again from the journal")
            records = records.dropLast()
        }
        let spec = SensitivityWorkSpec(job: job, source: source, probesPerCall: options.probesPerCall)
        var config = CoordinatorConfig(epoch: UInt64.random(in: 1...UInt64.max))
        config.verifyFraction = verifyFraction
        var core = CoordinatorCore(config: config, spec: spec,
                                   options: options, workers: state.document.schedule.workers, tasksPerWorker: state.document.schedule.tasksPerWorker,
                                   macsPerExample: TaskSizing.macsPerExample(layers: graph.quantizableLayers.map(\.macsPerExample)),
                                   quantizeFollows: quantize, blobs: blobs,
                                   quantizationErrors: options.bits.isEmpty ? nil
                                       : QuantizationErrorWorkSpec(modelPath: source.modelPath, modelDigest: source.digests[source.modelPath],
                                                                   bits: options.bits),
                                   eigenIterations: options.eigenvalues ? options.eigenIterations : nil,
                                   activations: activations ? ActivationRequest(values: ActivationSensitivity.values(of: graph).count, probes: options.probes) : nil,
                                   measuredBits: measured ? options.bits : nil)
        core.layerStore = try state.layerStore()
        let activationErrors = activations ? try Self.activationErrors(job: job, graph: graph, dataset: dataset, options: options) : nil
        Interruption.installHandlers()

        // the journal's results, through the same acceptance path as live ones, up to a phase end
        func replay() throws -> CoordinatorOutcome? {
            while let record = records.popFirst() {
                let actions: [CoordinatorAction]
                do {
                    actions = try core.replay(record)
                } catch {
                    throw CommandFailure(.state, "\(journalPath): \(error); the journal does not belong to this job: use another state directory, or remove '\(stateDirectory)' to start over")
                }
                for action in actions {
                    switch action {
                    case .phaseComplete(let estimates): return .sensitivity(estimates)
                    case .finish(let outcome): return outcome
                    case .log(let line): log("coordinator: \(line)")
                    default: break
                    }
                }
            }
            return nil
        }
        var replayed = try replay()
        if !state.records.isEmpty {
            log("coordinator: resuming from \(journalPath): \(state.records.count) results replayed; only the other tasks are leased")
        }

        // the live part: bound, with local workers for `hutch run`, once some work is left
        var server: CoordinatorServer?
        var children: [Process] = []
        defer {
            for child in children where child.isRunning { child.terminate() }
            for child in children { child.waitUntilExit() }
        }
        var display = ClusterProgress()
        func serve() throws -> CoordinatorOutcome {
            if server == nil {
                let bound: CoordinatorServer
                do {
                    bound = try CoordinatorServer(bind: bind, curve: curve, securityLog: { log("coordinator: \($0)") })
                } catch {
                    throw CommandFailure(.io, "cannot bind \(bind): \(error)")
                }
                bound.journal = state.journal
                server = bound
                if let curve {
                    log("coordinator: CURVE on (public key \(curve.keyPair.publicKey.z85)); \(curve.authorized.names.count) authorized worker key(s)")
                }
                log("coordinator: \(job.method.rawValue) traces of \(inputs.model) on \(job.samples) examples; workers connect to \(bound.endpoint)")
                if let localWorkers {
                    children = try localWorkers.spawn(endpoint: bound.endpoint)
                }
            }
            guard let server else { throw CommandFailure(.internalError, "the coordinator has no socket") }
            let outcome = try server.run(&core, log: { display.clear(); log("coordinator: \($0)") }, progress: { display.update($0); recorder.observe($0) },
                                         abandon: { Interruption.reason() ?? LocalWorkers.allExited(children) })
            display.clear()
            if case .failed(let why) = outcome {
                if Interruption.reason() != nil {
                    try state.journal.sync()
                    throw CommandFailure(.interrupted, "\(why); the journal \(journalPath) is synced (\(core.tasksDone) results): run the same command again to resume")
                }
                throw CommandFailure(.cluster, "the cluster job failed: \(why)")
            }
            return outcome
        }

        let estimates: [LayerEstimate]
        switch try replayed ?? serve() {
        case .failed(let why): throw CommandFailure(.cluster, "the cluster job failed: \(why)")
        case .sensitivity(let e): estimates = e
        case .quantized: throw CommandFailure(.internalError, "the coordinator quantized before measuring sensitivity")
        }
        replayed = nil
        log("coordinator: sensitivity complete (\(core.tasksDone) tasks, \(core.duplicates) duplicate results ignored)")

        // Between the phases: the workers wait, and the step below may outlast their liveness
        // window, so it runs while the server keeps their links alive (on a copy of the core).
        let pause = plan == nil ? nil : PhasePause.fromEnvironment()
        let sensitivityCore = core
        let outPath = state.file("sensitivity.json"), planPath = state.file("plan.json")
        let planned = try Self.keepingAlive(server, &core) { () throws -> (data: Data, widths: [LayerWidths])? in
            let result = try Self.sensitivityResult(estimates, core: sensitivityCore, job: job, graph: graph, options: options, fallback: fallback)
            if let fallback { log("method auto: Hutchinson, because exact traces do not apply: \(fallback)") }
            var report = SensitivityReport(result, options: options, modelDigest: modelDigest, dataDigest: dataDigest)
            if let activationErrors {
                report.setActivations(try Self.activationSensitivities(sensitivityCore, job: job, graph: graph, errors: activationErrors), graph: graph)
            }
            if measured { try Self.addMeasured(&report, core: sensitivityCore, job: job) }
            try report.validate(source: outPath)
            let sensitivityData = try report.encoded()
            try writeAtomically(sensitivityData, to: outPath)
            announce(traceSummary(result, outPath: outPath))
            guard let plan else { return nil }
            // solve centrally, then quantize the layers on the workers under the plan
            if let pause, !pause.silent { pause.sleep() }
            let (planData, widths) = try Self.solvePlan(report, sensitivityData: sensitivityData, step: plan, graph: graph, source: outPath)
            try writeAtomically(planData, to: planPath)
            return (planData, widths)
        }
        guard let (planData, widths) = planned else {
            try recorder.finish(core, directory: stateDirectory, source: source)
            return try Self.complete(state, records)
        }
        log("coordinator: plan written (weight bits \(widths.map { String($0.weightBits) }.joined(separator: ","))); quantizing on the workers")
        if let pause, pause.silent { pause.sleep() }   // frozen right before the quantize phase's first TASKs
        let started = core.startQuantize(QuantizeWorkSpec(modelPath: source.modelPath, weightBits: widths.map(\.weightBits),
                                                          modelDigest: source.digests[source.modelPath]),
                                         graph: graph, plan: [UInt8](planData), now: MonotonicClock.nowMs)
        if let server { try server.perform(started, log: { log("coordinator: \($0)") }) }
        replayed = try replay()
        let digests: [WireDigest]
        switch try replayed ?? serve() {
        case .failed(let why): throw CommandFailure(.cluster, "the cluster job failed: \(why)")
        case .sensitivity: throw CommandFailure(.internalError, "the coordinator ended the quantize phase without layers")
        case .quantized(let stored): digests = stored
        }
        let (exported, deferred) = try Self.quantizedModel(digests, of: core, widths: widths, graph: graph, proto: proto,
                                                           calibration: FileCalibrationGroups(source: inputs.data, dataset: dataset, files: dataFiles),
                                                           modelPath: inputs.model)
        let onnxPath = state.file("quantized.onnx")
        try writeAllOrNothing(QuantizedModelFile.outputs(exported, deferred: deferred, path: onnxPath, externalData: false))
        announce("plan → \(planPath); quantized \(digests.count) layers on the workers → \(onnxPath)")
        try recorder.finish(core, directory: stateDirectory, source: source)
        _ = try replay()   // records after the end: a layer's task redone after it went missing, passed over
        try Self.complete(state, records)
    }
}
