/// Collects task results in any order and combines them in canonical order (layer, probe,
/// batch), so the totals are the same bits however the job was cut into tasks.
///
/// The dataset Hessian is the example-weighted mean of the batch Hessians: a probe's
/// full-dataset value is sum_b n_b v^T(H_b v) / N, summed in batch order; Hutchinson's mean and
/// standard error then run over those per-probe values in probe order.
public struct TraceAggregator: Sendable {
    public let job: SensitivityJob
    /// Hutchinson: per layer, cells[p * B + b] (nil until computed). Exact: cells[b].
    private var cells: [[Double?]]
    private var counts: [Int?]

    public init(job: SensitivityJob) {
        self.job = job
        cells = Array(repeating: [], count: job.layerCount)
        counts = Array(repeating: nil, count: job.batchCount)
    }

    /// Adds one result. A cell computed twice must hold the same bits (at-least-once delivery).
    public mutating func add(_ result: TaskResult) throws(SensitivityError) {
        let task = result.task
        try task.validate(in: job)
        let taskLayers = job.layers(ofGroups: task.groups)
        let nb = task.batches.count, width = taskLayers.count
        let expected = (job.method == .exact ? 1 : task.probes.count) * nb * width
        guard result.values.count == expected, result.exampleCounts.count == nb else {
            throw SensitivityError(.invalidResult, "result of \(task) has \(result.values.count) values and \(result.exampleCounts.count) example counts; expected \(expected) and \(nb)")
        }
        for (bi, b) in task.batches.enumerated() {
            let n = job.examples(ofBatch: b).count
            guard result.exampleCounts[bi] == n else {
                throw SensitivityError(.invalidResult, "result of \(task) says batch \(b) has \(result.exampleCounts[bi]) examples; the job's batch has \(n)")
            }
            counts[b] = n
        }
        let B = job.batchCount
        for (li, l) in taskLayers.enumerated() {
            for (bi, b) in task.batches.enumerated() {
                if job.method == .exact {
                    try set(l, b, result.values[bi * width + li], task)
                } else {
                    for (pi, p) in task.probes.enumerated() {
                        try set(l, p * B + b, result.values[(pi * nb + bi) * width + li], task)
                    }
                }
            }
        }
    }

    private mutating func set(_ l: Int, _ index: Int, _ value: Double, _ task: SensitivityTask) throws(SensitivityError) {
        guard value.isFinite else {
            throw SensitivityError(.invalidResult, "result of \(task) has a non-finite value (\(value)) for layer \(l); the model's loss or curvature overflows on this data")
        }
        if cells[l].count <= index { cells[l].append(contentsOf: Array(repeating: nil, count: index + 1 - cells[l].count)) }
        if let old = cells[l][index], old.bitPattern != value.bitPattern {
            throw SensitivityError(.invalidResult, "result of \(task) gives layer \(l) a different value than an earlier result for the same cell (\(old) vs \(value)); tasks must be deterministic")
        }
        cells[l][index] = value
    }

    /// Number of probes 0..<P complete over every batch for layer l.
    public func completeProbes(layer l: Int) -> Int {
        let B = job.batchCount
        var p = 0
        while (p + 1) * B <= cells[l].count, cells[l][(p * B)..<((p + 1) * B)].allSatisfy({ $0 != nil }) { p += 1 }
        return p
    }

    /// Full-dataset values of probes 0..<P of layer l (Hutchinson), each sum_b n_b q_b / N.
    public func probeValues(layer l: Int, probes: Int) -> [Double] {
        let B = job.batchCount
        let total = Double(job.samples)
        return (0..<probes).map { p in
            var sum = 0.0
            for b in 0..<B { sum += Double(job.examples(ofBatch: b).count) * (cells[l][p * B + b] ?? .nan) }
            return sum / total
        }
    }

    /// Per-layer estimate over the first `probes` complete probes (Hutchinson: all complete probes
    /// when nil); nil when a needed cell is missing.
    public func estimate(layer l: Int, probes: Int? = nil) -> LayerEstimate? {
        switch job.method {
        case .exact:
            let B = job.batchCount
            guard cells[l].count >= B, cells[l].allSatisfy({ $0 != nil }) else { return nil }
            var sum = 0.0
            for b in 0..<B { sum += cells[l][b]! }
            return LayerEstimate(trace: sum / Double(job.samples), standardError: nil, probes: nil, probeValues: [])
        case .hutchinson, .ggn:
            let complete = completeProbes(layer: l)
            let p = probes ?? complete
            guard p >= 1, p <= complete else { return nil }
            let values = probeValues(layer: l, probes: p)
            return LayerEstimate(hutchinson: values)
        }
    }
}

/// One layer's trace and, for Hutchinson, its standard error over probes.
public struct LayerEstimate: Sendable, Hashable {
    public var trace: Double
    /// Sample standard deviation of the per-probe values / sqrt(probes); nil for exact, and for
    /// one probe (no spread to measure yet).
    public var standardError: Double?
    public var probes: Int?
    /// The per-probe full-dataset values (Hutchinson).
    public var probeValues: [Double]

    public init(trace: Double, standardError: Double?, probes: Int?, probeValues: [Double]) {
        self.trace = trace
        self.standardError = standardError
        self.probes = probes
        self.probeValues = probeValues
    }

    /// Mean and standard error of per-probe values, summed in probe order.
    public init(hutchinson values: [Double]) {
        let n = Double(values.count)
        var sum = 0.0
        for v in values { sum += v }
        let mean = sum / n
        var se: Double?
        if values.count >= 2 {
            var ss = 0.0
            for v in values { ss += (v - mean) * (v - mean) }
            se = (ss / (n - 1) / n).squareRoot()
        }
        self.init(trace: mean, standardError: se, probes: values.count, probeValues: values)
    }

    /// standard error / |trace| (infinite when unknown or the trace is 0).
    public var relativeStandardError: Double {
        guard let se = standardError else { return .infinity }
        return trace == 0 ? (se == 0 ? 0 : .infinity) : se / abs(trace)
    }
}
