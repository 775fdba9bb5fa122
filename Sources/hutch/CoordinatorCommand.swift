import Foundation
import HutchAllocation
import HutchCluster
import HutchModel
import HutchQuantize
import HutchSensitivity
import HutchTensor
import HutchWire
import Synchronization

/// `hutch coordinator`: serves a sensitivity job to workers over ZeroMQ and writes
/// DIR/sensitivity.json, the same bytes `hutch trace` writes with the same flags.
struct CoordinatorCommand: Command {
    static let name = "coordinator"
    static let summary = "serve a job to `hutch worker`s over ZeroMQ: DIR/sensitivity.json (+ plan.json, quantized.onnx with a budget)"
    static let usage = """
        [--model M.onnx --data D.npz] --bind tcp://HOST:PORT [--curve-key C.key --authorized-keys FILE | --insecure] [--workers N] [every hutch trace flag] [hutch plan budget flags] --state DIR
        """
    static let flags: [Arguments.Flag] = traceFlags + [
        .option("state", "DIR", "state directory: job.json, the journal, and the outputs sensitivity.json (+ plan.json, quantized.onnx with a budget); "
                + "the same command on the same DIR resumes (required)"),
        .option("bind", "ENDPOINT", "where workers connect, tcp://HOST:PORT (PORT * picks a free one); non-loopback needs CURVE or --insecure"),
        .toggle("insecure", "allow binding a non-loopback address without CURVE (unencrypted, anyone may connect)"),
    ] + ClusterSecurity.serverFlags + [
        .option("workers", "N", "workers expected, to size tasks so that all stay busy (default 4)"),
        .option("tasks-per-worker", "K", "tasks per expected worker and round (default: from the model's MACs, about 3 s of one core per task, at least 2 per worker)"),
        verifyFlag,
    ]

    static let verifyFlag = Arguments.Flag.option("verify-fraction", "F",
        "run this fraction (0-1) of the tasks on two workers and accept only bit-identical results; needs 2 workers, 3 to settle a mismatch (default 0)")

    /// `hutch trace` flags and `hutch plan` budget flags (no output flag: each command names its directory).
    static var traceFlags: [Arguments.Flag] {
        let trace = TraceCommand.flags.filter { $0.name != "out" }
        let names = Set(trace.map(\.name)).union(["out", "sensitivity", "model", "frontier", "svg"])
        return trace + PlanCommand.flags.filter { !names.contains($0.name) }
    }

    static func run(_ arguments: Arguments) throws {
        let bind = try arguments.endpoint("bind")
        let curve = try ClusterSecurity.server(arguments)
        try checkBind(bind, insecure: arguments.has("insecure"), curve: curve != nil)
        let workers = try arguments.int("workers", range: 1...100_000) ?? 4
        try ClusterJob.run(arguments, state: try arguments.required("state"), bind: bind, expectedWorkers: workers, spawn: nil, curve: curve)
    }

    /// Only loopback addresses may be bound without CURVE, unless --insecure (`endpoint` is tcp://…).
    static func checkBind(_ endpoint: String, insecure: Bool, curve: Bool) throws {
        let rest = endpoint.dropFirst("tcp://".count)
        guard let colon = rest.lastIndex(of: ":") else {
            throw CommandFailure(.usage, "--bind '\(endpoint)' has no port; give tcp://HOST:PORT (PORT * for any free port)")
        }
        let host = String(rest[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        let loopback = host == "localhost" || host == "::1" || host.hasPrefix("127.")
        if !loopback && !insecure && !curve {
            throw CommandFailure(.usage, "--bind \(endpoint) is not a loopback address: give --curve-key and --authorized-keys (see hutch keygen) to encrypt and admit only your workers, or add --insecure on a trusted network, or bind 127.0.0.1")
        }
    }
}

/// The coordinator side of `hutch coordinator` and `hutch run`: opens the state directory,
/// replays its journal, serves what is left, and writes the outputs.
enum ClusterJob {
    /// `curve`: the ROUTER's CURVE keys and admitted workers; `workerArguments` are added to the
    /// spawned local workers' command lines (their CURVE flags).
    static func run(_ arguments: Arguments, state stateDirectory: String, bind: String, expectedWorkers: Int, spawn: (workers: Int, threads: Int?)?,
                    curve: CurveServerConfig? = nil, workerArguments: [String] = []) throws {
        let recorder = RunRecorder(command: spawn == nil ? "coordinator" : "run", expectedWorkers: spawn?.workers ?? expectedWorkers)
        if let threads = try arguments.int("threads", range: 1...1024) { Kernels.setThreads(threads) }
        let tasksPerWorker = try arguments.int("tasks-per-worker", range: 1...10_000)
        let verifyFraction = try arguments.double("verify-fraction") ?? 0
        guard (0...1).contains(verifyFraction) else {
            throw CommandFailure(.usage, "--verify-fraction expects a fraction of the tasks between 0 and 1, got \(verifyFraction)")
        }
        if verifyFraction > 0, let spawn, spawn.workers < 2 {
            throw CommandFailure(.usage, "--verify-fraction needs at least 2 workers (3 to settle a mismatch); add --workers 3")
        }
        let options = try TraceCommand.makeOptions(arguments)
        let inputs = try TraceInputs.locate(arguments)
        let modelBytes = try readInput(inputs.model, what: "model")
        let proto = try ONNXLoader.decode(bytes: modelBytes, source: inputs.model)
        let graph = try ONNXLoader.load(model: proto, source: inputs.model)
        // a budget flag asks for the plan and the quantized model too
        let quantize = ["size-mb", "avg-bits", "size-frac", "bops-g", "latency-ms"].contains { arguments.has($0) }
        let request = quantize ? try PlanCommand.makeRequest(arguments) : nil
        let (dataset, dataDigest) = try inputs.loadData()
        try dataset.validate(against: graph, modelName: inputs.model)
        let (job, fallback) = try SensitivityAnalysis.job(graph: graph, datasetCount: dataset.count, options: options)

        // model and data files, served as blobs to workers that do not share this filesystem; a
        // model with external data is served with its tensors inside (one self-contained blob)
        var source = source(inputs)
        var blobs: [WireDigest: [UInt8]] = [:]
        let files = [source.modelPath, source.dataNPZ, source.inputsNPY, source.labelsNPY].compactMap { $0 }
        let servedModel = try selfContained(proto, modelBytes, path: inputs.model)
        for path in files {
            let bytes = path == source.modelPath ? servedModel : try readInput(path, what: "data")
            let digest = Digest.sha256(bytes)
            source.digests[path] = digest
            if let d = WireDigest(digest) { blobs[d] = bytes }
        }
        let state = try StateDirectory.open(stateDirectory, job: try jobDocument(arguments, options: options, source: source, files: files,
                                                                              schedule: .init(workers: spawn?.workers ?? expectedWorkers, tasksPerWorker: tasksPerWorker)))
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
                                   eigenIterations: options.eigenvalues ? options.eigenIterations : nil)
        installInterruptHandlers()

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
                if let spawn {
                    children = try spawnWorkers(spawn.workers, threads: spawn.threads, endpoint: bound.endpoint,
                                                fetchBlobs: arguments.has("fetch-blobs"), extra: workerArguments)
                }
            }
            guard let server else { throw CommandFailure(.internalError, "the coordinator has no socket") }
            let outcome = try server.run(&core, log: { display.clear(); log("coordinator: \($0)") }, progress: { display.update($0); recorder.observe($0) },
                                         abandon: { interruption() ?? allExited(children) })
            display.clear()
            if case .failed(let why) = outcome {
                if interruption() != nil {
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

        // what SensitivityAnalysis adds after the traces, computed here as `hutch trace` does
        let layers = graph.quantizableLayers
        // computed by the workers (eigenvalue tasks)
        let eigen = options.eigenvalues ? core.eigenvalues : [Double?](repeating: nil, count: layers.count)
        if options.eigenvalues && eigen.contains(where: { $0 == nil }) {
            throw CommandFailure(.internalError, "the coordinator finished without the eigenvalue of every layer")
        }
        // computed by the workers (quantization_error tasks)
        let errors = core.quantizationErrors
        if !options.bits.isEmpty && errors == nil {
            throw CommandFailure(.internalError, "the coordinator finished without the quantization errors of every layer")
        }
        let ties = graph.tieGroups
        let result = SensitivityResult(job: job, assembled: layers.enumerated().map { l, layer in
            LayerSensitivity(index: l, layer: layer, estimate: estimates[l], method: job.method, topEigenvalue: eigen[l],
                             quantizationErrors: errors?[l], tieGroup: ties[l])
        }, fallbackReason: fallback)
        if let fallback { log("method auto: Hutchinson, because exact traces do not apply: \(fallback)") }
        let outPath = state.file("sensitivity.json")
        let report = TraceCommand.makeReport(result, options: options, modelDigest: Digest.sha256(modelBytes), dataDigest: dataDigest)
        try report.validate(source: outPath)
        let sensitivityData = try report.encoded()
        try writeAtomically(sensitivityData, to: outPath)
        print(TraceCommand.summary(result, outPath: outPath))
        guard let request else {
            try recorder.finish(core, directory: stateDirectory, source: source)
            return try complete(state, records)
        }

        // solve centrally, then quantize the layers on the workers under the plan
        let problem = try AllocationProblem(report: report, request: request, source: outPath)
        let solver = try arguments.string("solver").map { name -> SolverKind in
            guard let kind = SolverKind(rawValue: name) else { throw CommandFailure(.usage, "--solver must be exact or greedy, got '\(name)'") }
            return kind
        } ?? .exact
        let allocation = try problem.solve(solver)
        let plan = Plan(problem: problem, allocation: allocation, sensitivityDigest: Digest.sha256(sensitivityData),
                        modelDigest: report.job.modelDigest)
        let planPath = state.file("plan.json")
        let planData = try plan.encoded()
        try writeAtomically(planData, to: planPath)
        let widths = try PlanWidths.decode(planData, source: planPath).widths(for: graph, source: planPath)
        log("coordinator: plan written (weight bits \(widths.map { String($0.weightBits) }.joined(separator: ","))); quantizing on the workers")
        let started = core.startQuantize(QuantizeWorkSpec(modelPath: source.modelPath, weightBits: widths.map(\.weightBits),
                                                          modelDigest: source.digests[source.modelPath]),
                                         graph: graph, plan: [UInt8](planData), now: MonotonicClock.nowMs)
        if let server { try server.perform(started, log: { log("coordinator: \($0)") }) }
        replayed = try replay()
        let layersQuantized: [QuantizedLayer]
        switch try replayed ?? serve() {
        case .failed(let why): throw CommandFailure(.cluster, "the cluster job failed: \(why)")
        case .sensitivity: throw CommandFailure(.internalError, "the coordinator ended the quantize phase without layers")
        case .quantized(let layers): layersQuantized = layers
        }
        // activations are calibrated here, on the full data, as `hutch quantize --data` does
        let quantizer = try ModelQuantizer(graph: graph, widths: widths)
        let (activationInputs, activationOutputs) = try quantizer.calibrate(dataset.inputs, method: .minMax)
        let model = QuantizedModel(graph: graph, layers: layersQuantized, inputs: activationInputs, outputs: activationOutputs)
        // tensors the export keeps (biases, norms) leave the external data file for the output
        let exported = try ExternalDataFiles(modelPath: inputs.model).inlined(try QDQExporter.export(model, original: proto, source: inputs.model))
        let onnxPath = state.file("quantized.onnx")
        try writeAtomically(Data(exported.encoded()), to: onnxPath)
        print("plan → \(planPath); quantized \(model.layers.count) layers on the workers → \(onnxPath)")
        try recorder.finish(core, directory: stateDirectory, source: source)
        try complete(state, records)
    }

    /// Every output is written: the journal says so, durably.
    static func complete(_ state: StateDirectory, _ left: ArraySlice<JournalRecord>) throws {
        guard left.isEmpty else {
            throw CommandFailure(.state, "\(state.file("journal")): \(left.count) records follow the end of the job; the journal does not belong to this job")
        }
        guard !state.complete else { return }   // outputs written again from a complete journal
        try state.journal.append(.jobComplete, now: MonotonicClock.nowMs)
        try state.journal.sync()
    }

    /// job.json's content: the input digests and every option that determines the outputs.
    /// The model as a worker without the shared filesystem receives it: the file's bytes, or with
    /// external data the model re-encoded with every tensor inside (under protobuf's 2 GB limit;
    /// a larger one is refused, such workers need the shared filesystem).
    static func selfContained(_ proto: ONNXModelProto, _ bytes: [UInt8], path: String) throws -> [UInt8] {
        guard !ExternalDataFiles.locations(of: proto).isEmpty else { return bytes }
        let inlined = try ExternalDataFiles(modelPath: path).inlined(proto).encoded()
        guard inlined.count < Int(Int32.max) else {
            throw CommandFailure(.invalidModel, "\(path) with its external data is \(inlined.count) bytes, over protobuf's 2 GB limit: serving it to --fetch-blobs workers is not supported yet; put the model on a filesystem every worker shares")
        }
        return inlined
    }

    static func jobDocument(_ arguments: Arguments, options: TraceOptions, source: ModelSource, files: [String],
                            schedule: JobDocument.Schedule) throws -> JobDocument {
        var plan: [String: String] = [:]
        let excluded: Set<String> = ["sensitivity", "model", "out", "frontier", "svg", "bits"]
        for flag in PlanCommand.flags where !excluded.contains(flag.name) && arguments.has(flag.name) {
            plan[flag.name] = arguments.string(flag.name) ?? "true"
        }
        if let table = plan["latency-table"] { plan["latency-table"] = Digest.sha256(try readFile(table, what: "latency table")) }
        let job = JobDocument.Job(hutchVersion: hutchVersion, modelDigest: source.digests[source.modelPath] ?? "",
                                  dataDigests: files.dropFirst().map { source.digests[$0] ?? "" },
                                  trace: JobDocument.Trace(options), plan: plan)
        return JobDocument(job: job, inputs: ["model": [source.modelPath], "data": Array(files.dropFirst())], schedule: schedule)
    }

    /// SIGINT / SIGTERM end the job cleanly: the journal is synced, workers get DISCONNECT
    /// shutdown (they keep reconnecting, so a restarted coordinator finds them), exit code 10.
    static func installInterruptHandlers() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig) { number in receivedSignal.store(number, ordering: .relaxed) }
        }
    }

    static func interruption() -> String? {
        let number = receivedSignal.load(ordering: .relaxed)
        guard number != 0 else { return nil }
        return "interrupted by signal \(number) (\(number == SIGINT ? "SIGINT" : "SIGTERM"))"
    }

    /// Why `hutch run` cannot finish: every local worker process has exited (nil otherwise).
    static func allExited(_ children: [Process]) -> String? {
        guard !children.isEmpty, children.allSatisfy({ !$0.isRunning }) else { return nil }
        let statuses = children.map { String($0.terminationStatus) }.joined(separator: ", ")
        return "all \(children.count) local worker(s) exited (status \(statuses)) before the job was done; see their messages above"
    }

    /// Absolute paths: workers may run in another directory.
    static func source(_ inputs: TraceInputs) -> ModelSource {
        func absolute(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }
        switch inputs.data {
        case .npz(let path, _): return ModelSource(modelPath: absolute(inputs.model), dataNPZ: absolute(path))
        case .npy(let x, let y): return ModelSource(modelPath: absolute(inputs.model), inputsNPY: absolute(x), labelsNPY: absolute(y))
        }
    }

    /// N `hutch worker` processes of this same executable, connected to `endpoint`.
    static func spawnWorkers(_ count: Int, threads: Int?, endpoint: String, fetchBlobs: Bool, extra: [String] = []) throws -> [Process] {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var children: [Process] = []
        for i in 0..<count {
            let process = Process()
            process.executableURL = executable
            process.arguments = ["worker", "--connect", endpoint, "--name", "local-\(i + 1)", "--parent", String(getpid())]
                + (threads.map { ["--threads", String($0)] } ?? []) + (fetchBlobs ? ["--fetch-blobs"] : []) + extra
            do {
                try process.run()
            } catch {
                for child in children { child.terminate() }
                throw CommandFailure(.io, "cannot start worker \(i + 1) (\(executable.path)): \((error as NSError).localizedDescription)")
            }
            children.append(process)
        }
        return children
    }
}

func readInput(_ path: String, what: String) throws -> [UInt8] {
    do {
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    } catch {
        throw ModelError.unreadableFile(path: path, reason: "cannot read the \(what) file: \((error as NSError).localizedDescription)")
    }
}

/// The coordinator's progress on stderr: phase, tasks of that phase done out of how many, where
/// the others are, workers connected, and the rate and ETA once results have come in; one
/// rewritten line on a terminal, a log line every 10 s otherwise.
struct ClusterProgress {
    let terminal = isatty(STDERR_FILENO) == 1
    var last = Date.distantPast
    var lineOpen = false

    /// What one progress line says; taken from the core, formatted by `line` (pure, tested).
    struct Snapshot {
        var phase: String
        /// Adaptive Hutchinson only (rounds are added until the traces converge): the current
        /// round and the most there can be. Nil when the phase has a fixed set of tasks.
        var round: Int? = nil
        var roundsAtMost: Int? = nil
        var done: Int
        var leased: Int
        var queued: Int
        var workers: Int
        /// Tasks per second in this phase and seconds left for the known tasks; nil before the
        /// phase's first result (a rate of 0.0 says nothing).
        var rate: Double? = nil
        var etaSeconds: Double? = nil
    }

    static func snapshot(_ core: CoordinatorCore, now: UInt64) -> Snapshot {
        let schedule = core.schedule
        let adaptive = schedule.job.method == .hutchinson && schedule.options.probes == nil && core.phase == "sensitivity"
        let rounds = schedule.rounds
        let atMost = max(core.round, (rounds.limit + max(1, rounds.roundSize) - 1) / max(1, rounds.roundSize))
        return Snapshot(phase: core.phase, round: adaptive ? core.round : nil, roundsAtMost: adaptive ? atMost : nil,
                        done: core.tasksDone - core.tasksDoneAtPhaseStart, leased: core.tasksLeased, queued: core.tasksQueued,
                        workers: core.workerCount, rate: core.throughput(now: now), etaSeconds: core.etaSeconds(now: now))
    }

    /// e.g. "sensitivity: 3 of 11 tasks done, 2 on workers, 6 waiting; 2 workers connected;
    /// 4.1 tasks/s, ETA 0:02". The total is the phase's tasks known now: an adaptive round
    /// adds tasks when the previous one is done, which the round count says.
    static func line(_ s: Snapshot) -> String {
        let total = s.done + s.leased + s.queued
        var text = s.phase
        if let round = s.round { text += ", round \(round)" + (s.roundsAtMost.map { " of at most \($0)" } ?? "") }
        text += ": \(s.done) of \(total) task\(total == 1 ? "" : "s") done, \(s.leased) on workers, \(s.queued) waiting; "
        switch s.workers {
        case 0: text += s.done == 0 && s.leased == 0 ? "waiting for workers to connect" : "no worker connected"
        case 1: text += "1 worker connected"
        default: text += "\(s.workers) workers connected"
        }
        if let rate = s.rate {
            text += "; " + String(format: rate >= 1 ? "%.1f" : "%.2f", rate) + " tasks/s"
            if let eta = s.etaSeconds { text += ", ETA " + ProgressReporter.clock(eta) }
        }
        return text
    }

    mutating func update(_ core: CoordinatorCore) {
        let now = Date()
        guard now.timeIntervalSince(last) >= (terminal ? 0.2 : 10) else { return }
        last = now
        // the core's throughput and ETA, the numbers `hutch status` shows
        let text = Self.line(Self.snapshot(core, now: MonotonicClock.nowMs))
        if terminal {
            FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
            lineOpen = true
        } else {
            log("coordinator: " + text)
        }
    }

    /// Ends the progress line before a log line.
    mutating func clear() {
        if lineOpen { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        lineOpen = false
    }
}

/// The last SIGINT/SIGTERM received (0: none); set by the signal handler.
let receivedSignal = Atomic<Int32>(0)
