import HutchModel

/// What `hutch trace` asks for.
public struct TraceOptions: Sendable, Hashable {
    public enum Method: String, Sendable, Hashable, CaseIterable {
        /// Exact when the model allows it, else Hutchinson.
        case auto, exact, hutchinson
        /// Sampled Gauss-Newton (Protocols/README.md, "Sampled GGN").
        case ggn
    }
    public var method: Method = .auto
    public var mode: ProbeMode = .joint
    /// A fixed number of probes (one round); nil for adaptive stopping.
    public var probes: Int?
    /// Adaptive stopping: every layer's relative standard error at most this.
    public var tolerance: Double = 0.05
    public var maxProbes: Int = 200
    /// Probes added per adaptive round (the stopping rule is checked only between rounds).
    public var probesPerRound: Int = 10
    public var seed: UInt64 = 0
    /// First N examples (nil: all).
    public var samples: Int?
    public var batchSize: Int = 128
    public var eigenvalues: Bool = false
    public var eigenIterations: Int = 20
    /// Widths for quantization errors (empty: none).
    public var bits: [Int] = [2, 3, 4, 5, 6, 8]
    public var probesPerCall: Int = 4
    /// Memory the process may use (`--memory`); nil: the stack budget's fixed default. Only
    /// speed and memory depend on it (`MemoryBudget`).
    public var memoryBytes: Int?
    public init() {}
}

/// A step of a running analysis, for progress display.
public struct AnalysisProgress: Sendable {
    public var phase: String
    /// Units of work done and planned in this phase (tasks, or layers for eigenvalues).
    public var done: Int
    public var total: Int
    /// e.g. probes so far and the worst relative standard error.
    public var detail: String
}

/// One layer's result, everything sensitivity.json says about it.
public struct LayerSensitivity: Sendable {
    public var index: Int
    public var layer: QuantizableLayer
    public var trace: Double
    public var standardError: Double?
    public var probes: Int?
    public var method: TraceMethod
    public var topEigenvalue: Double?
    public var quantizationErrors: [Int: Double]?
    public var tieGroup: String?
    public var exact: Bool { method == .exact }
}

public struct SensitivityResult: Sendable {
    public var job: SensitivityJob
    public var layers: [LayerSensitivity]
    /// Why `auto` fell back to Hutchinson (nil when it did not).
    public var fallbackReason: String?
    /// ggn jobs: whether the traces are the Hessian's or only the Gauss-Newton matrix's.
    public var curvature: Curvature? = nil
}

/// Runs a whole sensitivity job in this process through the same tasks a cluster would shard.
public enum SensitivityAnalysis {
    /// `note` hears once, before any work, what `--memory` left Hutchinson (`HutchinsonChunkPlan`).
    public static func run(graph: Graph, dataset: Dataset, options: TraceOptions,
                           progress: (AnalysisProgress) -> Void = { _ in }, note: (String) -> Void = { _ in }) throws -> SensitivityResult {
        let (job, fallback) = try Self.job(graph: graph, datasetCount: dataset.count, classTargets: dataset.hasClassTargets, options: options)
        let method = job.method
        let layers = graph.quantizableLayers
        var runner = try TaskRunner(graph: graph, dataset: dataset, job: job, probesPerCall: options.probesPerCall)
        if let memory = options.memoryBytes { runner.stackBudgetBytes = MemoryBudget.stackBytes(memory: memory) }
        runner.memoryBytes = options.memoryBytes
        if method == .hutchinson, let memory = options.memoryBytes {   // a budget too small fails here, before any work
            note(String(format: "--memory %.3g GB: ", Double(memory) / 1e9) + (try runner.hutchinsonPlan()).summary)
        }
        var aggregator = TraceAggregator(job: job)
        var estimates: [LayerEstimate?]

        switch method {
        case .exact:
            // one task per batch over every layer: one forward and one stacked reverse pass each
            let tasks = (0..<job.batchCount).map {
                SensitivityTask(batches: $0..<($0 + 1), probes: 0..<0, groups: 0..<job.layerGroups.count)
            }
            for (i, task) in tasks.enumerated() {
                try aggregator.add(try runner.run(task))
                progress(AnalysisProgress(phase: "exact traces", done: i + 1, total: tasks.count,
                                          detail: "batch \(task.batches.upperBound)/\(job.batchCount)"))
            }
            estimates = (0..<layers.count).map { aggregator.estimate(layer: $0) }
        case .hutchinson, .ggn:
            estimates = try hutchinson(runner, &aggregator, options, progress)
        }

        var eigen = [Double?](repeating: nil, count: layers.count)
        if options.eigenvalues {
            for l in layers.indices {
                eigen[l] = try runner.topEigenvalue(layer: l, maxIterations: options.eigenIterations)
                progress(AnalysisProgress(phase: "eigenvalues", done: l + 1, total: layers.count, detail: layers[l].nodeName))
            }
        }
        let errors = options.bits.isEmpty ? nil : try QuantizationErrors.compute(graph, bits: options.bits)
        let ties = graph.tieGroups
        let result = try layers.enumerated().map { l, layer in
            guard let e = estimates[l] else {
                throw SensitivityError(.invalidResult, "layer '\(layer.nodeName)': no trace was computed (internal error: a task is missing)")
            }
            return LayerSensitivity(index: l, layer: layer, trace: e.trace, standardError: e.standardError, probes: e.probes,
                                    method: method, topEigenvalue: eigen[l], quantizationErrors: errors?[l], tieGroup: ties[l])
        }
        return SensitivityResult(job: job, layers: result, fallbackReason: fallback, curvature: curvature(graph, job.method))
    }

    /// ggn: what its traces measure on this graph (nil for the other methods, which measure the Hessian).
    public static func curvature(_ graph: Graph, _ method: TraceMethod) -> Curvature? {
        guard method == .ggn else { return nil }
        return graph.exactTraceObstacle == nil ? .hessian : .gaussNewton
    }

    /// Rounds of probes (ggn: samples) per group until each layer's relative standard error is at most the
    /// tolerance or the group reached the probe limit (fixed --probes: one round).
    static func hutchinson(_ runner: TaskRunner, _ aggregator: inout TraceAggregator, _ options: TraceOptions,
                           _ progress: (AnalysisProgress) -> Void) throws -> [LayerEstimate?] {
        let job = runner.job
        var rounds = HutchinsonRounds(job: job, options: options)
        let name = job.method == .ggn ? "GGN" : "Hutchinson"
        while let ranges = rounds.startRound() {
            let tasks = ranges.flatMap {
                job.tasks(probes: $0.probes, groups: [$0.group], batchesPerTask: 1, probesPerTask: options.probesPerCall)
            }
            let done = rounds.probesDone
            for (i, task) in tasks.enumerated() {
                try aggregator.add(try runner.run(task))
                progress(AnalysisProgress(phase: "\(name) round \(rounds.round)", done: i + 1, total: tasks.count,
                                          detail: "probes \(done.min() ?? 0)...\(done.max() ?? 0) of at most \(rounds.limit)"))
            }
            rounds.finishRound(aggregator)
            let worst = (0..<job.layerCount).map { aggregator.estimate(layer: $0)?.relativeStandardError ?? .infinity }.max() ?? 0
            progress(AnalysisProgress(phase: "\(name) round \(rounds.round) done", done: tasks.count, total: tasks.count,
                                      detail: "probes \(done.max() ?? 0), worst relative standard error \(formatRatio(worst))"
                                          + (rounds.active.isEmpty ? "" : ", \(rounds.active.count) group(s) continue")))
        }
        return (0..<job.layerCount).map { aggregator.estimate(layer: $0) }
    }

    static func formatRatio(_ x: Double) -> String {
        x.isFinite ? "\((x * 1000).rounded() / 1000)" : "unknown"
    }
}
