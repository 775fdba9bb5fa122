import Foundation
import Synchronization
import HutchCluster
import HutchAllocation
import HutchModel
import HutchQuantize
import HutchSensitivity
import HutchWire

/// `hutch coordinator`: serves a sensitivity job to workers over ZeroMQ and writes
/// DIR/sensitivity.json, the same bytes `hutch trace` writes with the same flags.
struct CoordinatorCommand: Command {
    static let name = "coordinator"
    static let summary = "serve a job to `hutch worker`s over ZeroMQ: DIR/sensitivity.json (+ plan.json, quantized.onnx with a budget)"
    static let usage = """
        [--model M.onnx --data D.npz] --bind tcp://HOST:PORT [--insecure] [--workers N] [every hutch trace flag] [hutch plan budget flags] --out DIR
        """
    static let flags: [Arguments.Flag] = traceFlags + [
        .option("bind", "ENDPOINT", "where workers connect, tcp://HOST:PORT (PORT * picks a free one); non-loopback needs --insecure"),
        .toggle("insecure", "allow binding a non-loopback address without encryption (CURVE comes later)"),
        .option("workers", "N", "workers expected, to size tasks so that all stay busy (default 4)"),
        .option("tasks-per-worker", "K", "tasks per expected worker and round (default: from the model's MACs, about 3 s of one core per task, at least 2 per worker)"),
    ]

    /// `hutch trace` flags, with --out meaning the output directory.
    static var traceFlags: [Arguments.Flag] {
        let trace = TraceCommand.flags.filter { $0.name != "out" }
        let names = Set(trace.map(\.name)).union(["out", "sensitivity", "model", "frontier", "svg"])
        return trace + PlanCommand.flags.filter { !names.contains($0.name) }
            + [.option("out", "DIR", "output directory: sensitivity.json, and with a budget flag plan.json and quantized.onnx (required)")]
    }

    static func run(_ arguments: Arguments) throws {
        let bind = try arguments.endpoint("bind")
        try checkBind(bind, insecure: arguments.has("insecure"))
        let workers = try arguments.int("workers", range: 1...100_000) ?? 4
        try ClusterJob.run(arguments, bind: bind, expectedWorkers: workers, spawn: nil)
    }

    /// Only loopback addresses may be bound without CURVE, unless --insecure (`endpoint` is tcp://…).
    static func checkBind(_ endpoint: String, insecure: Bool) throws {
        let rest = endpoint.dropFirst("tcp://".count)
        guard let colon = rest.lastIndex(of: ":") else {
            throw CommandFailure(.usage, "--bind '\(endpoint)' has no port; give tcp://HOST:PORT (PORT * for any free port)")
        }
        let host = String(rest[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        let loopback = host == "localhost" || host == "::1" || host.hasPrefix("127.")
        if !loopback && !insecure {
            throw CommandFailure(.usage, "--bind \(endpoint) is not a loopback address and HWP is not encrypted yet; add --insecure on a trusted network, or bind 127.0.0.1")
        }
    }
}

/// The coordinator side of `hutch coordinator` and `hutch run`.
enum ClusterJob {
    static func run(_ arguments: Arguments, bind: String, expectedWorkers: Int, spawn: (workers: Int, threads: Int?)?) throws {
        let outDirectory = try arguments.required("out")
        if let threads = try arguments.int("threads", range: 1...1024) { setenv("HUTCH_THREADS", String(threads), 1) }
        let tasksPerWorker = try arguments.int("tasks-per-worker", range: 1...10_000)
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
        do {
            try FileManager.default.createDirectory(atPath: outDirectory, withIntermediateDirectories: true)
        } catch {
            throw CommandFailure(.io, "cannot create the output directory '\(outDirectory)': \((error as NSError).localizedDescription)")
        }

        // model and data files, served as blobs to workers that do not share this filesystem
        var source = source(inputs)
        var blobs: [WireDigest: [UInt8]] = [:]
        for path in [source.modelPath, source.dataNPZ, source.inputsNPY, source.labelsNPY].compactMap({ $0 }) {
            let bytes = path == source.modelPath ? modelBytes : try readInput(path, what: "data")
            let digest = Digest.sha256(bytes)
            source.digests[path] = digest
            if let d = WireDigest(digest) { blobs[d] = bytes }
        }
        let spec = SensitivityWorkSpec(job: job, source: source, probesPerCall: options.probesPerCall)
        var core = CoordinatorCore(config: CoordinatorConfig(epoch: UInt64.random(in: 1...UInt64.max)), spec: spec,
                                   options: options, workers: spawn?.workers ?? expectedWorkers, tasksPerWorker: tasksPerWorker,
                                   macsPerExample: TaskSizing.macsPerExample(layers: graph.quantizableLayers.map(\.macsPerExample)),
                                   quantizeFollows: quantize, blobs: blobs,
                                   quantizationErrors: options.bits.isEmpty ? nil
                                       : QuantizationErrorWorkSpec(modelPath: source.modelPath, modelDigest: source.digests[source.modelPath],
                                                                   bits: options.bits),
                                   eigenIterations: options.eigenvalues ? options.eigenIterations : nil)
        let server: CoordinatorServer
        do {
            server = try CoordinatorServer(bind: bind)
        } catch {
            throw CommandFailure(.io, "cannot bind \(bind): \(error)")
        }
        log("coordinator: \(job.method.rawValue) traces of \(inputs.model) on \(job.samples) examples; workers connect to \(server.endpoint)")
        var children: [Process] = []
        defer {
            for child in children where child.isRunning { child.terminate() }
            for child in children { child.waitUntilExit() }
        }
        if let spawn {
            children = try spawnWorkers(spawn.workers, threads: spawn.threads, endpoint: server.endpoint,
                                        fetchBlobs: arguments.has("fetch-blobs"))
        }
        installInterruptHandlers()
        var display = ClusterProgress()
        let outcome = try server.run(&core, log: { display.clear(); log("coordinator: \($0)") }, progress: { display.update($0) },
                                     abandon: { interruption() ?? allExited(children) })
        display.clear()
        let estimates: [LayerEstimate]
        switch outcome {
        case .failed(let why): throw CommandFailure(.cluster, "the cluster job failed: \(why)")
        case .sensitivity(let e): estimates = e
        case .quantized: throw CommandFailure(.internalError, "the coordinator quantized before measuring sensitivity")
        }
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
        let outPath = URL(fileURLWithPath: outDirectory).appendingPathComponent("sensitivity.json").path
        let report = TraceCommand.makeReport(result, options: options, modelDigest: Digest.sha256(modelBytes), dataDigest: dataDigest)
        try report.validate(source: outPath)
        let sensitivityData = try report.encoded()
        try writeAtomically(sensitivityData, to: outPath)
        print(TraceCommand.summary(result, outPath: outPath))
        guard let request else { return }

        // solve centrally, then quantize the layers on the workers under the plan
        let problem = try AllocationProblem(report: report, request: request, source: outPath)
        let solver = try arguments.string("solver").map { name -> SolverKind in
            guard let kind = SolverKind(rawValue: name) else { throw CommandFailure(.usage, "--solver must be exact or greedy, got '\(name)'") }
            return kind
        } ?? .exact
        let allocation = try problem.solve(solver)
        let plan = Plan(problem: problem, allocation: allocation, sensitivityDigest: Digest.sha256(sensitivityData),
                        modelDigest: report.job.modelDigest)
        let planPath = URL(fileURLWithPath: outDirectory).appendingPathComponent("plan.json").path
        let planData = try plan.encoded()
        try writeAtomically(planData, to: planPath)
        let widths = try PlanWidths.decode(planData, source: planPath).widths(for: graph, source: planPath)
        log("coordinator: plan written (weight bits \(widths.map { String($0.weightBits) }.joined(separator: ","))); quantizing on the workers")
        try server.perform(core.startQuantize(QuantizeWorkSpec(modelPath: source.modelPath, weightBits: widths.map(\.weightBits),
                                                           modelDigest: source.digests[source.modelPath]),
                                          graph: graph, plan: [UInt8](planData), now: MonotonicClock.nowMs), log: { log("coordinator: \($0)") })
        let layersQuantized: [QuantizedLayer]
        let quantizeOutcome = try server.run(&core, log: { display.clear(); log("coordinator: \($0)") }, progress: { display.update($0) },
                                     abandon: { interruption() ?? allExited(children) })
        display.clear()
        switch quantizeOutcome {
        case .failed(let why): throw CommandFailure(.cluster, "the cluster job failed: \(why)")
        case .sensitivity: throw CommandFailure(.internalError, "the coordinator ended the quantize phase without layers")
        case .quantized(let layers): layersQuantized = layers
        }
        // activations are calibrated here, on the full data, as `hutch quantize --data` does
        let quantizer = try ModelQuantizer(graph: graph, widths: widths)
        let (activationInputs, activationOutputs) = try quantizer.calibrate(dataset.inputs, method: .minMax)
        let model = QuantizedModel(graph: graph, layers: layersQuantized, inputs: activationInputs, outputs: activationOutputs)
        let exported = try QDQExporter.export(model, original: proto, source: inputs.model)
        let onnxPath = URL(fileURLWithPath: outDirectory).appendingPathComponent("quantized.onnx").path
        try writeAtomically(Data(exported.encoded()), to: onnxPath)
        print("plan → \(planPath); quantized \(model.layers.count) layers on the workers → \(onnxPath)")
    }

    /// SIGINT / SIGTERM end the job cleanly: workers are told to stop (DISCONNECT shutdown).
    static func installInterruptHandlers() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig) { number in receivedSignal.store(number, ordering: .relaxed) }
        }
    }

    static func interruption() -> String? {
        let number = receivedSignal.load(ordering: .relaxed)
        guard number != 0 else { return nil }
        return "interrupted by signal \(number) (\(number == SIGINT ? "SIGINT" : "SIGTERM")); the workers were told to stop"
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
    static func spawnWorkers(_ count: Int, threads: Int?, endpoint: String, fetchBlobs: Bool) throws -> [Process] {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var children: [Process] = []
        for i in 0..<count {
            let process = Process()
            process.executableURL = executable
            process.arguments = ["worker", "--connect", endpoint, "--name", "local-\(i + 1)", "--parent", String(getpid())]
                + (threads.map { ["--threads", String($0)] } ?? []) + (fetchBlobs ? ["--fetch-blobs"] : [])
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

/// The coordinator's progress on stderr: phase, tasks, workers, tasks per second and ETA; one
/// rewritten line on a terminal, a log line every 10 s otherwise.
struct ClusterProgress {
    let terminal = isatty(STDERR_FILENO) == 1
    var last = Date.distantPast
    var phase = ""
    var doneAtPhaseStart = 0
    var lineOpen = false

    mutating func update(_ core: CoordinatorCore) {
        let now = Date()
        if core.phase != phase { phase = core.phase; doneAtPhaseStart = core.tasksDone }
        guard now.timeIntervalSince(last) >= (terminal ? 0.2 : 10) else { return }
        last = now
        let done = core.tasksDone - doneAtPhaseStart
        // the core's throughput and ETA, the numbers `hutch status` shows
        let clock = MonotonicClock.nowMs
        let rate = core.throughput(now: clock) ?? 0
        let eta = core.etaSeconds(now: clock).map { ", ETA " + ProgressReporter.clock($0) } ?? ""
        let text = "\(core.phase) (round \(core.round)): \(done) tasks done, \(core.tasksLeased) leased, \(core.tasksQueued) queued; "
            + "\(core.workerCount) worker(s), \(String(format: "%.1f", rate)) tasks/s\(eta)"
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
