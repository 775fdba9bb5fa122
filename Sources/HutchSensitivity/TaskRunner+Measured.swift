import HutchModel
import HutchQuantize
import HutchTensor

extension TaskRunner {
    /// A measured task's loss sums, one per batch: the logits of the batch with the task's layer
    /// alone quantized (by the layer task of `ModelQuantizer`, as `hutch quantize` does;
    /// activations and every other layer float), summed by `CrossEntropySum`. One forward pass
    /// per batch, so memory is bounded by the job's batch size.
    public func measuredLossSums(_ task: MeasuredTask) throws -> [Double] {
        guard !task.batches.isEmpty, task.batches.lowerBound >= 0, task.batches.upperBound <= job.batchCount else {
            throw SensitivityError(.invalidJob, "\(task): batches must be a non-empty range within 0..<\(job.batchCount)")
        }
        var executor = self.executor
        if let l = task.layer {
            guard layers.indices.contains(l) else {
                throw SensitivityError(.invalidJob, "\(task): the model has \(layers.count) quantizable layers")
            }
            let widths = Array(repeating: LayerWidths(weightBits: task.bits), count: layers.count)
            let quantized = try ModelQuantizer(graph: executor.graph, widths: widths).tasks()[l].run()
            executor.parameters[layers[l].weight] = quantized.weight.dequantized()
        }
        return try task.batches.map { b in
            let (inputs, targets) = batch(b)
            guard case .classes(let labels) = targets else {
                throw SensitivityError(.unsupported, "the measured loss increase needs class labels [N] (loss ce); these labels are for another loss head")
            }
            let logits = try executor.logits(inputs)
            guard logits.shape.count == 2, labels.allSatisfy({ (0..<logits.shape[1]).contains($0) }) else {
                throw SensitivityError(.invalidJob, "\(task): the logits have shape \(logits.shape) and the labels of batch \(b) are not all among their classes")
            }
            return CrossEntropySum.of(logits, labels)
        }
    }
}
