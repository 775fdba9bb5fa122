/// A layer whose weight Hutch quantizes: a Conv, Gemm or MatMul node whose weight (input 1)
/// is an initializer (Protocols/README.md, "Quantizable layer"). Biases stay in 32-bit.
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
    /// The activation the layer reads (its input 0), whose quantization HAWQ-V2 weighs.
    public var input: ValueID
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
