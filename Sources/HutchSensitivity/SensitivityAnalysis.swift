import HutchModel

/// What `hutch trace` asks for.
public struct TraceOptions: Sendable, Hashable {
    public enum Method: String, Sendable, Hashable, CaseIterable {
        /// Exact when the model allows it, else Hutchinson.
        case auto, exact, hutchinson
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
}

/// Runs a whole sensitivity job in this process through the same tasks a cluster would shard.
public enum SensitivityAnalysis {
    public static func run(graph: Graph, dataset: Dataset, options: TraceOptions,
                           progress: (AnalysisProgress) -> Void = { _ in }) throws -> SensitivityResult {
        let layers = graph.quantizableLayers
        guard !layers.isEmpty else {
            throw SensitivityError(.unsupported, "the model has no quantizable layer (Conv, Gemm or MatMul with an initializer weight)")
        }
        let obstacle = graph.exactTraceObstacle
        var fallback: String?
        let method: TraceMethod
        switch options.method {
        case .exact:
            if let obstacle {
                throw SensitivityError(.unsupported, "exact traces need a network that is piecewise linear in each weight, but \(obstacle); use --method hutchinson (or auto)")
            }
            method = .exact
        case .hutchinson: method = .hutchinson
        case .auto:
            method = obstacle == nil ? .exact : .hutchinson
            fallback = obstacle.map { "\($0)" }
        }
        let samples = min(options.samples ?? dataset.count, dataset.count)
        let job = try SensitivityJob(method: method, mode: options.mode, seed: options.seed, samples: samples,
                                     batchSize: options.batchSize, layerCount: layers.count)
        let runner = try TaskRunner(graph: graph, dataset: dataset, job: job, probesPerCall: options.probesPerCall)
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
        case .hutchinson:
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
        return SensitivityResult(job: job, layers: result, fallbackReason: fallback)
    }

    /// Rounds of probes per group until each layer's relative standard error is at most the
    /// tolerance or the group reached the probe limit (fixed --probes: one round).
    static func hutchinson(_ runner: TaskRunner, _ aggregator: inout TraceAggregator, _ options: TraceOptions,
                           _ progress: (AnalysisProgress) -> Void) throws -> [LayerEstimate?] {
        let job = runner.job
        let limit = options.probes ?? max(2, options.maxProbes)
        let round = options.probes ?? max(2, options.probesPerRound)
        var done = [Int](repeating: 0, count: job.layerGroups.count)
        var active = Array(job.layerGroups.indices)
        var roundIndex = 0
        while !active.isEmpty {
            roundIndex += 1
            var tasks: [SensitivityTask] = []
            for g in active {
                let next = min(done[g] + round, limit)
                tasks += job.tasks(probes: done[g]..<next, groups: [g], batchesPerTask: 1, probesPerTask: options.probesPerCall)
                done[g] = next
            }
            for (i, task) in tasks.enumerated() {
                try aggregator.add(try runner.run(task))
                progress(AnalysisProgress(phase: "Hutchinson round \(roundIndex)", done: i + 1, total: tasks.count,
                                          detail: "probes \(done.min() ?? 0)...\(done.max() ?? 0) of at most \(limit)"))
            }
            active = active.filter { g in
                guard done[g] < limit else { return false }
                return job.layerGroups[g].contains { l in
                    (aggregator.estimate(layer: l)?.relativeStandardError ?? .infinity) > options.tolerance
                }
            }
            let worst = (0..<job.layerCount).map { aggregator.estimate(layer: $0)?.relativeStandardError ?? .infinity }.max() ?? 0
            progress(AnalysisProgress(phase: "Hutchinson round \(roundIndex) done", done: tasks.count, total: tasks.count,
                                      detail: "probes \(done.max() ?? 0), worst relative standard error \(formatRatio(worst))"
                                          + (active.isEmpty ? "" : ", \(active.count) group(s) continue")))
        }
        return (0..<job.layerCount).map { aggregator.estimate(layer: $0) }
    }

    static func formatRatio(_ x: Double) -> String {
        x.isFinite ? "\((x * 1000).rounded() / 1000)" : "unknown"
    }
}
