import HutchModel
import HutchTensor

/// Builds an `IntegerProgram` node by node: tracks, for every value the network computes, its
/// per-example shape and whether it is still the float input or an accumulator with known scales,
/// and forms codes where a quantized layer reads them.
struct IntegerCompiler {
    enum Domain { case float, wide(WideScales) }

    let model: QuantizedModel
    var steps: [IntegerStep] = []
    var points: [QuantizationPoint] = []
    var domains: [ValueID: Domain]
    var shapes: [ValueID: [Int]]
    var coded = Set<ValueID>()
    let layerOfNode: [Int: Int]

    init(model: QuantizedModel, exampleShape: [Int]) {
        self.model = model
        domains = [model.graph.input: .float]
        shapes = [model.graph.input: exampleShape]
        layerOfNode = Dictionary(uniqueKeysWithValues: model.graph.quantizableLayers.enumerated().map { ($1.nodeIndex, $0) })
    }

    /// The codes of `x` at `quantization`, formed once.
    mutating func quantize(_ x: ValueID, _ quantization: ActivationQuantization, after node: String) throws(ExportError) {
        guard !coded.contains(x) else { return }
        switch domains[x] {
        case .float:
            points.append(QuantizationPoint(value: x, quantization: quantization))
            steps.append(.quantizeInput(x, point: points.count - 1))
        case .wide(let layout):
            let requantizer = try Requantizer(from: layout, to: quantization, node: node)
            points.append(QuantizationPoint(value: x, quantization: quantization, requantizer: requantizer))
            steps.append(.requantize(x, requantizer, point: points.count - 1))
        case nil:
            throw ExportError(.model, "integer check: node '\(node)' reads '\(model.graph.values[x.index].name)', which the integer network does not compute")
        }
        coded.insert(x)
    }

    mutating func compile(nodeAt index: Int) throws(ExportError) {
        let graph = model.graph, node = graph.nodes[index]
        let fail = { (why: String) in ExportError(.model, "integer check: node '\(node.name)' (\(node.op.onnxType)) \(why)") }
        guard let x = node.inputs.first ?? nil, let out = node.outputs.first else { throw fail("has no data input") }
        if let k = layerOfNode[index] {
            guard node.op != .embedding else {
                throw fail("is an embedding lookup (token ids, no quantized input), which the integer check does not run; leave out --integer-check")
            }
            guard let quantization = model.input(ofLayer: k) else { throw fail("has no quantized input") }
            try quantize(x, quantization, after: node.name)
            var bias: Tensor<Float>?
            if node.inputs.count > 2, let b = node.inputs[2] {
                guard let constant = graph.initializers[b] else { throw fail("has a bias that is not a constant") }
                bias = constant
            }
            let layer = try IntegerLayer(node: node, layer: model.layers[k], input: quantization, bias: bias)
            let shape = try IntegerShapes.layerShape(layer, input: shapes[x] ?? [], fail: fail)
            shapes[out] = shape
            domains[out] = .wide(WideScales(scales: layer.scales, inner: shape.dropFirst().reduce(1, *), bounds: layer.biasError))
            steps.append(.layer(layer, input: x, output: out))
            return
        }
        guard let domain = domains[x], let shape = shapes[x] else { throw fail("reads a value the integer network does not compute") }
        // Data movement keeps the domain; anything else needs accumulators: only data movement
        // may happen before the input is quantized.
        switch (domain, try IntegerShapes.reshape(node.op, shape, fail: fail)) {
        case (_, let reshaped?):
            (shapes[out], domains[out]) = (reshaped, domain)
            steps.append(.reshape(x, out, perExample: reshaped))
        case (.float, nil):
            throw fail("reads the float network input; the integer network has it only as the codes of a quantized layer")
        case (.wide(let layout), nil):
            try compileWide(node, x, out, layout, shape, fail: fail)
        }
    }

    /// The logits: the final layer's accumulators to its own output quantization (the plan's
    /// requantization multipliers M_c = S_w[c]·S_in/S_out of that layer).
    mutating func requantizeLogits() throws(ExportError) {
        let graph = model.graph, layers = graph.quantizableLayers
        guard case .wide(let layout)? = domains[graph.output],
              let k = layers.firstIndex(where: { graph.nodes[$0.nodeIndex].outputs.first == graph.output }),
              let quantization = model.outputs[k] else {
            throw ExportError(.model, "integer check: the logits '\(graph.values[graph.output.index].name)' are not the output of a quantized layer; the integer network ends with the last layer's requantization")
        }
        let requantizer = try Requantizer(from: layout, to: quantization, node: layers[k].nodeName)
        points.append(QuantizationPoint(value: graph.output, quantization: quantization, requantizer: requantizer))
        steps.append(.requantize(graph.output, requantizer, point: points.count - 1))
    }
}
