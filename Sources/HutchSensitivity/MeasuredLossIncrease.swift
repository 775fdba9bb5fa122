import HutchAutodiff
import HutchModel
import HutchQuantize
import HutchTensor

/// The measured objective (Protocols/README.md, "Measured loss increase"): for each layer l and
/// width b, the mean loss on the data with layer l's weight alone quantized to b bits (by the
/// layer tasks of `ModelQuantizer`, as `hutch quantize` does; activations and the other layers
/// float), minus the float model's mean loss. One forward pass over the data per layer and width.
public struct MeasuredLossIncrease {
    public var graph: Graph
    public var dataset: Dataset
    public var bits: [Int]
    /// Examples per forward pass (bounds memory).
    public var batchSize = 256
    /// Mean loss of logits against labels.
    public var loss: (Tensor<Float>, [Int]) -> Double

    public init(graph: Graph, dataset: Dataset, bits: [Int], loss: @escaping (Tensor<Float>, [Int]) -> Double) {
        self.graph = graph
        self.dataset = dataset
        self.bits = bits
        self.loss = loss
    }

    /// The float model's mean loss and, per layer (canonical order), the increase by width.
    public func run(progress: (Int) -> Void = { _ in }) throws -> (baseLoss: Double, increases: [[Int: Double]]) {
        var executor = try Executor<Float>(graph: graph)
        let base = loss(try executor.logits(dataset.inputs, batchSize: batchSize), dataset.labels)
        let layers = graph.quantizableLayers
        var increases = [[Int: Double]](repeating: [:], count: layers.count)
        for b in bits {
            let widths = Array(repeating: LayerWidths(weightBits: b), count: layers.count)
            let tasks = try ModelQuantizer(graph: graph, widths: widths).tasks()
            for (l, layer) in layers.enumerated() {
                let original = executor.parameters[layer.weight]
                executor.parameters[layer.weight] = try tasks[l].run().weight.dequantized()
                increases[l][b] = loss(try executor.logits(dataset.inputs, batchSize: batchSize), dataset.labels) - base
                executor.parameters[layer.weight] = original
                progress(l)
            }
        }
        return (base, increases)
    }
}
