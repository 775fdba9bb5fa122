import HutchAutodiff
import HutchModel
import HutchQuantize
import HutchTensor

/// The activations' quantization errors: each activation's min-max range over the data (the
/// calibration `hutch quantize` uses), then per width the mean over entries and examples of
/// (Q_b(a) - a)^2. Forward passes only, run where the data is (`hutch trace`, or a cluster's
/// coordinator, which calibrates the same ranges for its QDQ export).
public enum ActivationQuantizationErrors {
    public static func measure(_ executor: Executor<Float>, values: [ValueID], dataset: Dataset, bits: [Int],
                               batchSize: Int) throws -> [ValueID: [Int: Double]] {
        let n = dataset.count, perExample = dataset.inputs.count / max(n, 1)
        func batches(_ body: (Tensor<Float>) throws -> Void) throws {
            for start in stride(from: 0, to: n, by: batchSize) {
                let count = min(batchSize, n - start)
                try body(Tensor(shape: [count] + dataset.exampleShape,
                                data: Array(dataset.inputs.data[(start * perExample)..<((start + count) * perExample)])))
            }
        }
        var ranges = [ValueID: ActivationRange]()
        try batches { x in
            for (id, tensor) in zip(values, try executor.values(values, input: x)) {
                let low = tensor.data.min() ?? 0, high = tensor.data.max() ?? 0
                let seen = ranges[id].map { ActivationRange(min: Swift.min($0.min, low), max: Swift.max($0.max, high)) }
                ranges[id] = seen ?? ActivationRange(min: low, max: high)
            }
        }
        let quantizers = try values.map { id in
            try bits.map { b in (b, try FakeQuantizer(activationRange: ranges[id] ?? ActivationRange(min: 0, max: 0), bits: b)) }
        }
        var sums = [ValueID: [Int: Double]](), counts = [ValueID: Int]()
        try batches { x in
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
