/// A layer whose weight Hutch quantizes: a Conv, Gemm or MatMul node whose weight (input 1)
/// is an initializer, or an embedding lookup of a rank-2 initializer table by token ids
/// (Protocols/README.md, "Quantizable layer"). Biases stay in 32-bit.
public struct QuantizableLayer: Sendable, Equatable {
    public var nodeIndex: Int
    public var nodeName: String
    public var opType: String
    public var weight: ValueID
    public var weightName: String
    public var shape: [Int]
    public var parameterCount: Int
    /// Multiply-accumulates per example; nil when the output shape is not statically known.
    public var macsPerExample: Int?
    /// The activation the layer reads (its input 0), whose quantization HAWQ-V2 weighs; an
    /// embedding's are its token ids.
    public var input: ValueID
    /// False for an embedding: its input is integer token ids, which are never quantized and
    /// have no activation sensitivity.
    public var readsActivation: Bool { opType != Op.embedding.onnxType }
}

extension Graph {
    /// The quantizable layers in node (topological) order. This order is the canonical layer
    /// order used everywhere: sensitivity.json, plan.json, task ids.
    public var quantizableLayers: [QuantizableLayer] {
        nodes.enumerated().compactMap { index, node -> QuantizableLayer? in
            guard node.inputs.count >= 2, let input = node.inputs[0], let weight = node.inputs[1],
                  let tensor = initializers[weight] else { return nil }
            switch node.op {
            case .conv, .gemm, .matMul: break
            case .embedding where tensor.rank == 2: break
            default: return nil
            }
            return QuantizableLayer(
                nodeIndex: index, nodeName: node.name, opType: node.op.onnxType,
                weight: weight, weightName: values[weight.index].name,
                shape: tensor.shape, parameterCount: tensor.count,
                macsPerExample: macsPerExample(of: node, weightShape: tensor.shape), input: input)
        }
    }

    /// MACs of one example: output elements per example times the reduction length. The batch
    /// may sit on any axis, with heads or tokens folded into it (`Value.batchFactor`).
    private func macsPerExample(of node: Node, weightShape: [Int]) -> Int? {
        // a lookup copies rows: no multiply-accumulates, so no BOPs (its size still counts)
        if node.op == .embedding { return 0 }
        let out = values[node.outputs[0].index]
        guard let outShape = out.shape, !outShape.isEmpty, outShape.filter({ $0 == nil }).count <= 1 else { return nil }
        // without a symbolic batch (a fixed-batch export) the first axis is the batch
        let perExample = outShape.contains(nil) ? outShape.compactMap { $0 } : outShape.dropFirst().compactMap { $0 }
        let outputElements = perExample.reduce(out.batchFactor, *)
        switch node.op {
        case .conv:
            // weight [C_out, C_in/group, k...]: each output element reduces over C_in/group * prod(k)
            return outputElements * weightShape.dropFirst().reduce(1, *)
        case .gemm(let attributes):
            let k = attributes.transB ? weightShape[1] : weightShape[0]
            return outputElements * k
        case .matMul:
            return outputElements * weightShape[weightShape.count - 2]
        default:
            return nil
        }
    }
}

extension QuantizableLayer {
    /// The output-channel axis of this layer's weight in ONNX layout: 0 for Conv [C_out, ...],
    /// Gemm with transB = 1 ([N, K]) and an embedding table [V, D] (one channel per row, the
    /// vector of one token); the last axis for Gemm with transB = 0 and MatMul ([K, N]).
    public func outputChannelAxis(in graph: Graph) -> Int {
        switch graph.nodes[nodeIndex].op {
        case .gemm(let attributes): attributes.transB ? 0 : 1
        case .matMul: max(0, shape.count - 1)
        default: 0
        }
    }
}

extension Graph {
    /// Refuses a weight initializer read by several quantizable layers along different output
    /// channel axes (an embedding table that a MatMul also reads untransposed): Hutch quantizes a
    /// tensor once, with one scale per channel, so its readers must agree on the channels.
    public func checkSharedWeights(source: String) throws {
        let layers = quantizableLayers
        for (index, layer) in layers.enumerated() {
            guard let other = layers[..<index].first(where: { $0.weight == layer.weight }),
                  other.outputChannelAxis(in: self) != layer.outputChannelAxis(in: self) else { continue }
            throw ModelError.invalidModel("\(source): weight '\(layer.weightName)' is read by '\(other.nodeName)' (\(other.opType), channels on axis \(other.outputChannelAxis(in: self))) and by '\(layer.nodeName)' (\(layer.opType), channels on axis \(layer.outputChannelAxis(in: self))); Hutch quantizes a shared weight once per channel, so export the second reader with its own (transposed) copy")
        }
    }
}
