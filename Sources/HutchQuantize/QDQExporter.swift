import HutchModel

/// Writes a quantized model as a standard QDQ ONNX model, starting from the original file:
/// - each quantized weight becomes an integer initializer and a DequantizeLinear (per output
///   channel, `axis`) whose output keeps the weight's name, so every consumer reads it unchanged;
/// - each quantized activation gets QuantizeLinear -> DequantizeLinear (per tensor, uint8, uint4
///   up to 4 bits with `narrowActivations`, or uint16 above 8 bits) feeding the quantized layers only; widths below the container's get a
///   Clip to the b-bit code range first, which makes the pair exactly a b-bit fake quantizer;
/// - a weight the loader computed from initializers (a Transpose of a table, as the dynamo
///   exporter writes GPT-2's tied LM head) is written the same way, folded, in the layout Hutch
///   quantized it in; the float nodes that computed it go when nothing else reads them;
/// - biases and every other tensor stay float.
///
/// Containers: opset 21 has INT4/UINT4 and INT16/UINT16. A model of opset 13...20 is raised to
/// opset 21 (IR version 10) when that keeps every node's meaning: between 13 and 21 the ops
/// Hutch reads only gained types or attributes whose defaults keep the old behavior, except
/// ReduceMean, whose axes became an input at 18, so a ReduceMean below opset 18 keeps the
/// original opset. There 2...8-bit weights are stored in INT8/UINT8 holding the narrower range,
/// 9...16-bit symmetric weights in INT32 (zero point 0). Below opset 13 DequantizeLinear has no
/// axis: refused.
public enum QDQExporter {
    public static let narrowTypesOpset: Int64 = 21
    public static let narrowTypesIRVersion: Int64 = 10

    /// The opset the export uses for a model of `opset` with these op types.
    public static func targetOpset(_ opset: Int64, opTypes: Set<String>) -> Int64 {
        if opset >= narrowTypesOpset { return opset }
        if opset >= 13, opset >= 18 || !opTypes.contains("ReduceMean") { return narrowTypesOpset }
        return opset
    }

    /// `narrowActivations` stores activations of at most 4 bits in UINT4 pairs (opset 21) instead
    /// of UINT8 pairs with a Clip: onnxruntime 1.32 runs those only with graph optimizations at
    /// basic or off, as its QDQ-to-QLinearConv fusion takes no UINT4.
    public static func export(_ model: QuantizedModel, original: ONNXModelProto, source: String,
                              narrowActivations: Bool = false) throws(ExportError) -> ONNXModelProto {
        guard var graph = original.graph, let opset = original.defaultOpset else {
            throw ExportError(.model, "\(source): the model has no graph or no default-domain opset")
        }
        guard opset >= 13 else {
            throw ExportError(.model, "\(source): opset \(opset) has no per-channel DequantizeLinear; export the model again with opset_version >= 13")
        }
        let target = targetOpset(opset, opTypes: Set(graph.nodes.map(\.opType)))
        let narrow = target >= narrowTypesOpset
        let layers = model.graph.quantizableLayers

        // Weights: integer initializer + DequantizeLinear producing the original name.
        var weightNodes: [ONNXNodeProto] = []
        var quantizedWeights = [String: QuantizedTensor]()
        var computedWeights = Set<String>()
        for layer in model.layers {
            let name = layer.weightName
            // one initializer read by tied layers (one tie group, one width) is written once
            if let done = quantizedWeights[name] {
                guard done == layer.weight else {
                    throw ExportError(.model, "\(source): weight '\(name)' is shared by several layers quantized differently; tie them (hutch plan --tie) so they take one width")
                }
                continue
            }
            let q = layer.weight
            let type = try weightType(q, narrow: narrow, layer: layer.node)
            let channels = q.axis.map { [q.shape[$0]] } ?? []
            if let position = graph.initializers.firstIndex(where: { $0.name == name }) {
                graph.initializers.remove(at: position)
                graph.inputs.removeAll { $0.name == name }
            } else if graph.nodes.contains(where: { $0.outputs.contains(name) }) {
                computedWeights.insert(name)   // folded at load: written folded, its float chain cut below
            } else {
                throw ExportError(.model, "\(source): layer '\(layer.node)': weight '\(name)' is neither an initializer nor a node output of the file")
            }
            graph.initializers.append(.integers(name + "_hutch_quantized", dims: q.shape, type: type, q.codes))
            graph.initializers.append(.floats(name + "_hutch_scale", dims: channels, q.scales))
            graph.initializers.append(.integers(name + "_hutch_zero_point", dims: channels, type: type, q.zeroPoints))
            weightNodes.append(.make("DequantizeLinear", name: name + "_hutch_DequantizeLinear",
                                     inputs: [name + "_hutch_quantized", name + "_hutch_scale", name + "_hutch_zero_point"],
                                     outputs: [name], axis: q.axis))
            quantizedWeights[name] = q
        }
        if !computedWeights.isEmpty { detachComputedWeights(computedWeights, from: &graph) }

        // Which ONNX node is which quantized layer, checked against the IR's data input names.
        func isQuantizedLayer(_ node: ONNXNodeProto) -> Bool {
            weightInput(of: node).map { quantizedWeights[$0] != nil } ?? false
        }
        for layer in layers {
            // a weight several layers read (ALBERT's) has several readers: the layer is one of them
            let readers = graph.nodes.filter { isQuantizedLayer($0) && weightInput(of: $0) == layer.weightName }
            guard let first = readers.first else {
                throw ExportError(.model, "\(source): no Conv/Gemm/MatMul/Gather node reads weight '\(layer.weightName)' of layer '\(layer.nodeName)'")
            }
            guard layer.readsActivation else { continue }   // token ids: no activation QDQ
            let expected = model.graph.nodes[layer.nodeIndex].inputs[0].map { model.graph.values[$0.index].name }
            guard readers.contains(where: { $0.inputs[0] == expected }) || model.weightsOnly else {
                throw ExportError(.model, "\(source): layer '\(layer.nodeName)' reads '\(first.inputs[0])' in the file but '\(expected ?? "?")' after loading; activation QDQ cannot be placed, use --weights-only")
            }
        }

        // Activations: [Clip ->] QuantizeLinear -> DequantizeLinear before the first consumer.
        var inserted: [String: [ONNXNodeProto]] = [:]
        var rename: [String: String] = [:]
        for activation in model.inputs {
            let x = activation.name
            let container = try activationType(bits: activation.bits, narrow: narrow, narrowActivations: narrowActivations,
                                               target: target, name: x, source: source)
            let p = activation.parameters
            var nodes: [ONNXNodeProto] = []
            var quantizeInput = x
            if activation.bits < container.bits {
                let lo = Float(activation.grid.minCode - p.zeroPoint) * p.scale
                let hi = Float(activation.grid.maxCode - p.zeroPoint) * p.scale
                graph.initializers.append(.floats(x + "_hutch_clip_min", dims: [], [lo]))
                graph.initializers.append(.floats(x + "_hutch_clip_max", dims: [], [hi]))
                nodes.append(.make("Clip", name: x + "_hutch_Clip", inputs: [x, x + "_hutch_clip_min", x + "_hutch_clip_max"],
                                   outputs: [x + "_hutch_clipped"]))
                quantizeInput = x + "_hutch_clipped"
            }
            graph.initializers.append(.floats(x + "_hutch_scale", dims: [], [p.scale]))
            graph.initializers.append(.integers(x + "_hutch_zero_point", dims: [], type: container, [p.zeroPoint]))
            nodes.append(.make("QuantizeLinear", name: x + "_hutch_QuantizeLinear",
                               inputs: [quantizeInput, x + "_hutch_scale", x + "_hutch_zero_point"], outputs: [x + "_hutch_quantized"]))
            nodes.append(.make("DequantizeLinear", name: x + "_hutch_DequantizeLinear",
                               inputs: [x + "_hutch_quantized", x + "_hutch_scale", x + "_hutch_zero_point"], outputs: [x + "_hutch_dequantized"]))
            inserted[x] = nodes
            rename[x] = x + "_hutch_dequantized"
        }
        var nodes = weightNodes
        for var node in graph.nodes {
            if isQuantizedLayer(node), node.opType != "Gather", let renamed = rename[node.inputs[0]] {
                if let pair = inserted.removeValue(forKey: node.inputs[0]) { nodes += pair }
                node.inputs[0] = renamed
            }
            nodes.append(node)
        }
        guard inserted.isEmpty else {
            throw ExportError(.model, "\(source): activations \(inserted.keys.sorted()) feed no quantized layer of the file")
        }
        graph.nodes = nodes

        var result = original
        result.graph = graph
        if target != opset {
            result.opsetImports = result.opsetImports.map { id in
                var id = id
                if id.domain.isEmpty || id.domain == "ai.onnx" { id.version = target }
                return id
            }
        }
        if narrow { result.irVersion = max(result.irVersion, narrowTypesIRVersion) }
        result.producerName = "hutch"
        return result
    }

    /// The weight a layer node reads: input 1 of Conv, Gemm and MatMul, the table (input 0) of
    /// an embedding's Gather.
    static func weightInput(of node: ONNXNodeProto) -> String? {
        switch node.opType {
        case "Conv", "Gemm", "MatMul": node.inputs.count >= 2 ? node.inputs[1] : nil
        case "Gather": node.inputs.first
        default: nil
        }
    }

    /// An activation's container: UINT4 up to 4 bits when asked and UINT16 above 8 need opset 21;
    /// UINT8 otherwise.
    static func activationType(bits: Int, narrow: Bool, narrowActivations: Bool, target: Int64,
                               name: String, source: String) throws(ExportError) -> QDQElementType {
        switch bits {
        case ...4 where narrowActivations:
            guard narrow else {
                throw ExportError(.plan, "\(source): activation '\(name)' at \(bits) bits needs UINT4, which needs opset \(narrowTypesOpset); this model stays at opset \(target) (ReduceMean below opset 18), so re-export it with opset_version >= 18 or use at least 5 activation bits")
            }
            return .uint4
        case ...8: return .uint8
        default:
            guard narrow else {
                throw ExportError(.plan, "\(source): activation '\(name)' at \(bits) bits needs UINT16, which opset \(target) lacks; use at most 8 activation bits")
            }
            return .uint16
        }
    }

    /// The narrowest container the opset allows for the weight's codes.
    static func weightType(_ q: QuantizedTensor, narrow: Bool, layer: String) throws(ExportError) -> QDQElementType {
        let signed = q.grid.scheme == .symmetric
        switch q.bits {
        case ...4 where narrow: return signed ? .int4 : .uint4
        case ...8: return signed ? .int8 : .uint8
        case ...16 where narrow: return signed ? .int16 : .uint16
        default:
            guard signed else {
                throw ExportError(.plan, "layer '\(layer)': \(q.bits)-bit asymmetric weights need UINT16 (opset 21), which this model's opset cannot use; use at most 8 bits or the symmetric scheme")
            }
            return .int32
        }
    }
}
