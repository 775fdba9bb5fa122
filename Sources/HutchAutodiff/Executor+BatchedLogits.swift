import HutchModel
import HutchTensor

extension Executor {
    /// Examples per forward pass of the evaluations that only need outputs (accuracy, loss,
    /// `--logits` of `hutch quantize`, `hutch report`, `hutch plan --check`, fine-tuning's
    /// evaluation): a forward pass keeps every activation of its batch (ResNet-18 at 224x224:
    /// about 30 MB an example), so the batch, not the data set, bounds their memory. Fixed, so
    /// the outputs' bits do not depend on how many examples there are.
    public static var evaluationBatchSize: Int { 32 }

    /// Outputs of many examples, `batchSize` at a time, so that the forward pass's memory is
    /// bounded by one batch whatever the number of examples. Logits [N, C] or [N, T, V].
    public func logits(_ inputs: Tensor<Scalar>, batchSize: Int) throws(ExecutionError) -> Tensor<Scalar> {
        let n = inputs.shape.first ?? 0
        guard n > batchSize, batchSize >= 1 else { return try logits(inputs) }
        let perExample = inputs.count / n
        var result: [Scalar] = []
        var exampleShape: [Int] = []
        for start in stride(from: 0, to: n, by: batchSize) {
            let end = Swift.min(n, start + batchSize)
            let batch = Tensor(shape: [end - start] + inputs.shape.dropFirst(), data: Array(inputs.data[(start * perExample)..<(end * perExample)]))
            let out = try logits(batch)
            exampleShape = Array(out.shape.dropFirst())
            result += out.data
        }
        return Tensor(shape: [n] + exampleShape, data: result)
    }
}
