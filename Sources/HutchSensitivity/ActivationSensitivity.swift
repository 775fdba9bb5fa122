import HutchAutodiff
import HutchModel
import HutchQuantize
import HutchTensor

/// HAWQ-V2's activation sensitivity of one layer's input activation a (per example):
/// Tr(d^2 L_i / d a_i^2) averaged over the examples, by Hutchinson on the activations, and
/// the activation's quantization error per candidate width: the mean over its entries of
/// (Q_b(a) - a)^2 with the min-max range of the data (the calibration hutch quantize uses).
/// The activation term of the objective is then trace / elements * elements * error per entry
/// (Protocols/README.md).
public struct ActivationSensitivity: Sendable, Equatable {
    public var trace: Double
    public var standardError: Double
    public var probes: Int
    /// Entries of the activation per example.
    public var elements: Int
    /// Mean squared quantization error per entry, by width.
    public var quantizationErrors: [Int: Double]

    /// The input activations of `graph`'s quantizable layers on `dataset` (the first `samples`
    /// examples), keyed by value: layers that read one activation share its entry. Probes are
    /// Rademacher directions made from `seed`, `probesPerCall` of them per pass; the batches are
    /// weighted by their examples, as the weight traces are.
    public static func measure(graph: Graph, dataset: Dataset, probes: Int, seed: UInt64, batchSize: Int, bits: [Int],
                               probesPerCall: Int = 4) throws -> [ValueID: ActivationSensitivity] {
        guard probes >= 2 else { throw SensitivityError(.invalidJob, "activation traces need at least 2 probes, got \(probes)") }
        let executor = try Executor<Float>(graph: graph)
        let classes = try dataset.classLabels(for: "activation sensitivity (--activations)")
        var values: [ValueID] = []
        for layer in graph.quantizableLayers where !values.contains(layer.input) { values.append(layer.input) }
        let n = dataset.count, perExample = dataset.inputs.count / max(n, 1)
        var totals = [ValueID: [Double]]()
        var ranges = [ValueID: ActivationRange]()
        for start in stride(from: 0, to: n, by: batchSize) {
            let count = min(batchSize, n - start)
            let x = Tensor(shape: [count] + dataset.exampleShape,
                           data: Array(dataset.inputs.data[(start * perExample)..<((start + count) * perExample)]))
            let labels = Array(classes[start..<(start + count)])
            for first in stride(from: 0, to: probes, by: probesPerCall) {
                let seeds = (first..<min(probes, first + probesPerCall)).map { seed &* 0x2545_F491_4F6C_DD1D &+ UInt64($0) }
                let result = try executor.activationQuadraticForms(input: x, labels: labels, values: values, seeds: seeds,
                                                                   firstExample: start, examples: count)
                for (j, forms) in result.forms.enumerated() {
                    for (id, form) in forms {
                        var list = totals[id] ?? Array(repeating: 0, count: probes)
                        list[first + j] += form * Double(count) / Double(n)
                        totals[id] = list
                    }
                }
            }
            for (id, tensor) in zip(values, try executor.values(values, input: x)) {
                let low = tensor.data.min() ?? 0, high = tensor.data.max() ?? 0
                let seen = ranges[id].map { ActivationRange(min: Swift.min($0.min, low), max: Swift.max($0.max, high)) }
                ranges[id] = seen ?? ActivationRange(min: low, max: high)
            }
        }
        let errors = try quantizationErrors(executor, values, dataset, ranges, bits: bits, batchSize: batchSize)
        var result = [ValueID: ActivationSensitivity]()
        for id in values {
            let samples = totals[id] ?? []
            let mean = samples.reduce(0, +) / Double(probes)
            let variance = samples.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(probes - 1)
            let elements = (graph.values[id.index].shape ?? []).compactMap { $0 }.reduce(graph.values[id.index].batchFactor, *)
            result[id] = ActivationSensitivity(trace: mean, standardError: (variance / Double(probes)).squareRoot(), probes: probes,
                                               elements: elements, quantizationErrors: errors[id] ?? [:])
        }
        return result
    }

    /// Mean over entries and examples of (Q_b(a) - a)^2 for each width b.
    private static func quantizationErrors(_ executor: Executor<Float>, _ values: [ValueID], _ dataset: Dataset,
                                           _ ranges: [ValueID: ActivationRange], bits: [Int],
                                           batchSize: Int) throws -> [ValueID: [Int: Double]] {
        var sums = [ValueID: [Int: Double]](), counts = [ValueID: Int]()
        let quantizers = try values.map { id in
            try bits.map { b in (b, try FakeQuantizer(activationRange: ranges[id] ?? ActivationRange(min: 0, max: 0), bits: b)) }
        }
        let n = dataset.count, perExample = dataset.inputs.count / max(n, 1)
        for start in stride(from: 0, to: n, by: batchSize) {
            let count = min(batchSize, n - start)
            let x = Tensor(shape: [count] + dataset.exampleShape,
                           data: Array(dataset.inputs.data[(start * perExample)..<((start + count) * perExample)]))
            for ((id, tensor), widths) in zip(zip(values, try executor.values(values, input: x)), quantizers) {
                for (b, quantizer) in widths {
                    let q = quantizer(tensor)
                    var sum = 0.0
                    for (a, qa) in zip(tensor.data, q.data) { sum += Double(qa - a) * Double(qa - a) }
                    sums[id, default: [:]][b, default: 0] += sum
                }
                counts[id, default: 0] += tensor.count
            }
        }
        var means = [ValueID: [Int: Double]]()
        for (id, perWidth) in sums { means[id] = perWidth.mapValues { $0 / Double(max(counts[id] ?? 1, 1)) } }
        return means
    }
}
