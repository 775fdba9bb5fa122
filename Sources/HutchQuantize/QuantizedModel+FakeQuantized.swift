import HutchModel
import HutchTensor

extension QuantizedModel {
    /// The graph Hutch runs to predict what the QDQ model computes: each quantized weight
    /// replaced by its dequantized value, and a `fakeQuantize` node on each quantized activation
    /// right before its first quantized consumer, feeding those consumers only (as the QDQ
    /// export rewires them).
    public func fakeQuantizedGraph() -> Graph {
        var result = graph
        let layers = graph.quantizableLayers
        for layer in self.layers { result.initializers[layers[layer.index].weight] = layer.weight.dequantized() }
        guard !inputs.isEmpty else { return result }

        let consumers = layers.map(\.nodeIndex)
        var replacement: [ValueID: ValueID] = [:]
        var inserted: [Int: [Node]] = [:]
        for activation in inputs {
            let id = ValueID(result.values.count)
            let original = graph.values[activation.value.index]
            result.values.append(Value(name: original.name + "_fakequant", shape: original.shape, batchFactor: original.batchFactor))
            replacement[activation.value] = id
            let first = consumers.first { graph.nodes[$0].inputs[0] == activation.value } ?? 0
            let p = activation.parameters
            inserted[first, default: []].append(Node(
                name: original.name + "_fakequant",
                op: .fakeQuantize(scale: p.scale, zeroPoint: p.zeroPoint, minCode: activation.grid.minCode, maxCode: activation.grid.maxCode),
                inputs: [activation.value], outputs: [id]))
        }
        let quantized = Set(consumers)
        var nodes: [Node] = []
        for (index, node) in graph.nodes.enumerated() {
            nodes += inserted[index] ?? []
            var node = node
            if quantized.contains(index), let x = node.inputs[0], let fq = replacement[x] { node.inputs[0] = fq }
            nodes.append(node)
        }
        result.nodes = nodes
        return result
    }
}
