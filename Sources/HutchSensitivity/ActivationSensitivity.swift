import HutchAutodiff
import HutchModel
import HutchQuantize
import HutchTensor

/// HAWQ-V2's activation sensitivity of one layer's input activation a (per example):
/// Tr(d^2 L_i / d a_i^2) averaged over the examples, exact on piecewise-linear networks (the seed
/// trick of exact mode) and by Hutchinson on the activations otherwise, and the activation's
/// quantization error per candidate width: the mean over its entries of (Q_b(a) - a)^2 with the
/// min-max range of the data (the calibration hutch quantize uses). The activation term of the
/// objective is then trace / elements * elements * error per entry (Protocols/README.md).
public struct ActivationSensitivity: Sendable, Equatable {
    public var trace: Double
    /// 0 for exact traces.
    public var standardError: Double
    /// Hutchinson probes; 0 for exact traces.
    public var probes: Int
    /// Entries of the activation per example.
    public var elements: Int
    /// Mean squared quantization error per entry, by width.
    public var quantizationErrors: [Int: Double]

    /// The activations measured: each quantizable layer's input, once (layers that read one
    /// activation share its entry), in layer order; an embedding's token ids are none.
    public static func values(of graph: Graph) -> [ValueID] {
        var values: [ValueID] = []
        for layer in graph.quantizableLayers where layer.readsActivation && !values.contains(layer.input) { values.append(layer.input) }
        return values
    }

    /// Hutchinson probes on the activations: the probes asked for, else the most any weight trace
    /// used, and at least 10.
    public static func probeCount(asked: Int?, weightProbes: [Int?]) -> Int {
        max(asked ?? weightProbes.compactMap { $0 }.max() ?? 10, 10)
    }

    /// The input activations of `graph`'s quantizable layers on `dataset` (the first `samples`
    /// examples) in batches of `batchSize`, keyed by value: exact traces when `exact` (the network
    /// is piecewise linear), else `probes` Rademacher probes made from `seed`, `probesPerCall` of
    /// them per pass (fewer if `memoryBytes` needs: `TaskRunner.activationPlan`). A cluster
    /// computes the same cells in tasks (`ActivationCells`), so both give the same bits.
    public static func measure(graph: Graph, dataset: Dataset, exact: Bool = false, probes: Int, seed: UInt64, batchSize: Int,
                               bits: [Int], probesPerCall: Int = 4,
                               stackBudgetBytes: Int = Executor<Float>.exactStackBudgetBytes,
                               memoryBytes: Int? = nil) throws -> [ValueID: ActivationSensitivity] {
        guard exact || probes >= 2 else { throw SensitivityError(.invalidJob, "activation traces need at least 2 probes, got \(probes)") }
        _ = try dataset.classLabels(for: "activation sensitivity (--activations)")   // the classifier's loss
        let job = try SensitivityJob(method: exact ? .exact : .hutchinson, seed: seed, samples: dataset.count, batchSize: batchSize,
                                     layerCount: graph.quantizableLayers.count)
        var runner = try TaskRunner(graph: graph, dataset: dataset, job: job, probesPerCall: probesPerCall)
        runner.stackBudgetBytes = stackBudgetBytes
        runner.memoryBytes = memoryBytes   // Hutchinson's chunks and probes per call (`activationPlan`)
        let values = values(of: graph)
        var cells = ActivationCells(batches: job.batchCount, probes: exact ? 0 : probes, values: values.count)
        for task in cells.tasks(probesPerTask: .max) { try cells.add(task, runner.activationValues(task)) }
        let errors = try ActivationQuantizationErrors.measure(runner.executor, values: values, dataset: dataset, bits: bits, batchSize: batchSize)
        return try combine(graph: graph, values: values, cells: cells, batchCounts: (0..<job.batchCount).map { job.examples(ofBatch: $0).count },
                           errors: errors)
    }

    /// The sensitivities from complete cells: exact, the batches' sums in batch order over the
    /// examples; Hutchinson, per probe the batches' forms weighted by their examples in batch
    /// order, then the mean and standard error over probes.
    public static func combine(graph: Graph, values: [ValueID], cells: ActivationCells, batchCounts: [Int],
                               errors: [ValueID: [Int: Double]]) throws -> [ValueID: ActivationSensitivity] {
        guard cells.isComplete, batchCounts.count == cells.batches else {
            throw SensitivityError(.invalidResult, "activation traces: \(cells.missing) of \(cells.batches) batches have no cells")
        }
        let n = batchCounts.reduce(0, +)
        var result = [ValueID: ActivationSensitivity]()
        for (v, id) in values.enumerated() {
            let elements = graph.values[id.index].elementsPerExample
            let trace: Double, standardError: Double
            if cells.probes == 0 {
                var sum = 0.0
                for b in 0..<cells.batches { sum += cells.value(batch: b, probe: 0, value: v) }
                (trace, standardError) = (sum / Double(n), 0)
            } else {
                let p = cells.probes
                let samples = (0..<p).map { probe in
                    var sum = 0.0
                    for (b, count) in batchCounts.enumerated() { sum += cells.value(batch: b, probe: probe, value: v) * Double(count) / Double(n) }
                    return sum
                }
                let mean = samples.reduce(0, +) / Double(p)
                let variance = samples.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(p - 1)
                (trace, standardError) = (mean, (variance / Double(p)).squareRoot())
            }
            result[id] = ActivationSensitivity(trace: trace, standardError: standardError, probes: cells.probes,
                                               elements: elements, quantizationErrors: errors[id] ?? [:])
        }
        return result
    }
}
