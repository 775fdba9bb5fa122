import HutchModel
import HutchSensitivity
import HutchTensor

/// Mini-batches of a data set: a seeded shuffle per epoch, and the gathered inputs of a batch.
struct ExampleBatches {
    let data: Dataset
    let batchSize: Int
    let seed: UInt64

    var perBatch: Int { (data.count + batchSize - 1) / batchSize }

    /// Example indices in the order of epoch `epoch` (counted over the whole run): sorted by a
    /// SplitMix64 hash of the seed, the epoch and the index, so it depends on nothing else.
    func order(epoch: Int) -> [Int] {
        let salt = ProbeGenerator.mix(ProbeGenerator.mix(seed) ^ UInt64(epoch))
        let keys = (0..<data.count).map { ProbeGenerator.mix(salt ^ UInt64($0)) }
        return (0..<data.count).sorted { keys[$0] != keys[$1] ? keys[$0] < keys[$1] : $0 < $1 }
    }

    /// Batch b of an epoch's order: inputs [n, ...] and labels.
    func batch(_ b: Int, of order: [Int]) -> (inputs: Tensor<Float>, labels: [Int]) {
        let indices = order[(b * batchSize)..<min(order.count, (b + 1) * batchSize)]
        let perExample = data.inputs.count / data.count
        var values: [Float] = []
        values.reserveCapacity(indices.count * perExample)
        for i in indices { values += data.inputs.data[(i * perExample)..<((i + 1) * perExample)] }
        return (Tensor(shape: [indices.count] + data.exampleShape, data: values), indices.map { data.labels[$0] })
    }
}
