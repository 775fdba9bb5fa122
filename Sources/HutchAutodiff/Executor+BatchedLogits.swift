import HutchModel
import HutchTensor

extension Executor {
    /// Logits of many examples, `batchSize` at a time, so that the forward pass's memory is
    /// bounded by one batch whatever the number of examples.
    public func logits(_ inputs: Tensor<Scalar>, batchSize: Int) throws(ExecutionError) -> Tensor<Scalar> {
        let n = inputs.shape.first ?? 0
        guard n > batchSize, batchSize >= 1 else { return try logits(inputs) }
        let perExample = inputs.count / n
        var result: [Scalar] = []
        var classes = 0
        for start in stride(from: 0, to: n, by: batchSize) {
            let end = Swift.min(n, start + batchSize)
            let batch = Tensor(shape: [end - start] + inputs.shape.dropFirst(), data: Array(inputs.data[(start * perExample)..<(end * perExample)]))
            let out = try logits(batch)
            classes = out.shape[1]
            result += out.data
        }
        return Tensor(shape: [n, classes], data: result)
    }
}
