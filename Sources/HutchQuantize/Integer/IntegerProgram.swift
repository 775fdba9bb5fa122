import HutchModel
import HutchTensor

/// A place where the integer network forms b-bit activation codes: the data input of quantized
/// layers (where the QDQ model has QuantizeLinear) and, last, the logits at the output
/// quantization of the final layer.
public struct QuantizationPoint: Sendable {
    public var value: ValueID
    public var quantization: ActivationQuantization
    /// nil for the float network input, which is quantized exactly as the QDQ model does.
    var requantizer: Requantizer?

    /// How far the value before rounding at element `e` of an example can be from the QDQ
    /// model's when both read the same codes upstream, in LSBs (float rounding aside).
    func bound(ofElement e: Int) -> Double { requantizer?.bound(ofElement: e) ?? 0 }
}

/// One step of the integer program, in graph order.
enum IntegerStep: Sendable {
    /// The float network input (or a reshape of it) to codes with QuantizeLinear's own
    /// arithmetic: the only floating-point step.
    case quantizeInput(ValueID, point: Int)
    /// A wide value to the codes of a quantization point.
    case requantize(ValueID, Requantizer, point: Int)
    case layer(IntegerLayer, input: ValueID, output: ValueID)
    /// Relu and Clip: per channel bounds in accumulator steps.
    case clamp(ValueID, ValueID, lower: [Int64], upper: [Int64], layout: WideScales)
    /// MaxPool, or a sum pool (AveragePool, GlobalAveragePool) whose division went into the scales.
    case pool(ValueID, ValueID, isMax: Bool, window: PoolAttributes, node: String)
    case add(ValueID, ValueID, ValueID, ResidualAdd, node: String)
    case reshape(ValueID, ValueID, perExample: [Int])
}

/// The integer-only network of a quantized model (HAWQ-V3), compiled once: every scale is turned
/// into integers here, so running it (`run`) uses integer multiply, add, compare and shift only.
/// Codes are formed exactly where the QDQ export has QuantizeLinear; between those points values
/// stay int32 accumulators (Relu, Clip, residual Add and pooling work on them, as a fused integer
/// kernel's epilogue would). Exact semantics: Protocols/README.md, "Integer check".
public struct IntegerProgram: Sendable {
    var steps: [IntegerStep] = []
    public private(set) var points: [QuantizationPoint] = []
    var input: ValueID
    var output: ValueID

    enum Domain { case float, wide(WideScales) }

    public init(model: QuantizedModel, exampleShape: [Int]) throws(ExportError) {
        let graph = model.graph
        guard !model.weightsOnly else {
            throw ExportError(.plan, "integer check: the activations are not quantized (--weights-only); the integer network needs quantized activations")
        }
        input = graph.input
        output = graph.output
        var domains: [ValueID: Domain] = [graph.input: .float]
        var shapes: [ValueID: [Int]] = [graph.input: exampleShape]
        var coded = Set<ValueID>()
        let layerOfNode = Dictionary(uniqueKeysWithValues: graph.quantizableLayers.enumerated().map { ($1.nodeIndex, $0) })

        /// The codes of `x` at `quantization`, formed once.
        func quantize(_ x: ValueID, _ quantization: ActivationQuantization, after node: String) throws(ExportError) {
            guard !coded.contains(x) else { return }
            switch domains[x] {
            case .float:
                points.append(QuantizationPoint(value: x, quantization: quantization))
                steps.append(.quantizeInput(x, point: points.count - 1))
            case .wide(let layout):
                let requantizer = try Requantizer(from: layout, to: quantization, node: node)
                points.append(QuantizationPoint(value: x, quantization: quantization, requantizer: requantizer))
                steps.append(.requantize(x, requantizer, point: points.count - 1))
            case nil: throw ExportError(.model, "integer check: node '\(node)' reads '\(graph.values[x.index].name)', which the integer network does not compute")
            }
            coded.insert(x)
        }

        for (index, node) in graph.nodes.enumerated() {
            let fail = { (why: String) in ExportError(.model, "integer check: node '\(node.name)' (\(node.op.onnxType)) \(why)") }
            guard let x = node.inputs.first ?? nil, let out = node.outputs.first else { throw fail("has no data input") }
            if let k = layerOfNode[index] {
                guard let quantization = model.input(ofLayer: k) else { throw fail("has no quantized input") }
                try quantize(x, quantization, after: node.name)
                var bias: Tensor<Float>?
                if node.inputs.count > 2, let b = node.inputs[2] {
                    guard let constant = graph.initializers[b] else { throw fail("has a bias that is not a constant") }
                    bias = constant
                }
                let layer = try IntegerLayer(node: node, layer: model.layers[k], input: quantization, bias: bias)
                let shape = try Self.layerShape(layer, input: shapes[x] ?? [], fail: fail)
                shapes[out] = shape
                domains[out] = .wide(WideScales(scales: layer.scales, inner: shape.dropFirst().reduce(1, *), bounds: layer.biasError))
                steps.append(.layer(layer, input: x, output: out))
                continue
            }
            guard let domain = domains[x], let shape = shapes[x] else { throw fail("reads a value the integer network does not compute") }
            if case .float = domain {
                // Only data movement may happen before the input is quantized.
                guard let reshaped = try Self.reshape(node.op, shape, fail: fail) else {
                    throw fail("reads the float network input; the integer network has it only as the codes of a quantized layer")
                }
                shapes[out] = reshaped
                domains[out] = .float
                steps.append(.reshape(x, out, perExample: reshaped))
                continue
            }
            guard case .wide(let layout) = domain else { continue }
            if let reshaped = try Self.reshape(node.op, shape, fail: fail) {
                (shapes[out], domains[out]) = (reshaped, .wide(layout))
                steps.append(.reshape(x, out, perExample: reshaped))
                continue
            }
            switch node.op {
            case .relu:
                steps.append(.clamp(x, out, lower: [0], upper: [Int64(Int32.max)], layout: WideScales(scales: [1], inner: 1)))
                (shapes[out], domains[out]) = (shape, .wide(layout))
            case .clip(let lo, let hi):
                // v·s >= lo  <=>  v >= ceil(lo / s) for an integer v (and likewise for hi).
                func bound(_ r: Double) -> Int64 { Int64(min(max(r, Double(Int32.min)), Double(Int32.max))) }
                steps.append(.clamp(x, out, lower: layout.scales.map { bound((Double(lo) / $0).rounded(.up)) },
                                    upper: layout.scales.map { bound((Double(hi) / $0).rounded(.down)) }, layout: layout))
                (shapes[out], domains[out]) = (shape, .wide(layout.clamped()))
            case .maxPool(let window):
                let pooled = try Self.pooled(shape, window, fail: fail)
                steps.append(.pool(x, out, isMax: true, window: window, node: node.name))
                (shapes[out], domains[out]) = (pooled, .wide(layout.with(inner: pooled.dropFirst().reduce(1, *))))
            case .averagePool(let window):
                guard !window.ceilMode, window.countIncludePad || window.pads.allSatisfy({ $0 == 0 }) else {
                    throw fail("has windows of different sizes (ceil mode, or padding not counted); only full windows have an integer rule")
                }
                let pooled = try Self.pooled(shape, window, fail: fail)
                steps.append(.pool(x, out, isMax: false, window: window, node: node.name))
                let size = window.kernelShape.reduce(1, *)
                (shapes[out], domains[out]) = (pooled, .wide(layout.divided(by: size, inner: pooled.dropFirst().reduce(1, *))))
            case .globalAveragePool:
                let spatial = Array(shape.dropFirst())
                let ones = spatial.map { _ in 1 }
                let window = PoolAttributes(kernelShape: spatial, strides: ones, pads: ones.map { _ in 0 } + ones.map { _ in 0 }, dilations: ones)
                let pooled = try Self.pooled(shape, window, fail: fail)
                steps.append(.pool(x, out, isMax: false, window: window, node: node.name))
                (shapes[out], domains[out]) = (pooled, .wide(layout.divided(by: spatial.reduce(1, *), inner: 1)))
            case .add:
                guard node.inputs.count == 2, let y = node.inputs[1], case .wide(let other)? = domains[y], shapes[y] == shape else {
                    throw fail("adds a constant, the float input or a tensor of another shape; only residual adds of two computed tensors of one shape have an integer rule")
                }
                let add = try ResidualAdd(layout, other, node: node.name)
                steps.append(.add(x, y, out, add, node: node.name))
                (shapes[out], domains[out]) = (shape, .wide(add.layout))
            default:
                throw fail("has no integer rule (supported: Conv, Gemm, MatMul, Relu, Clip, Add, MaxPool, AveragePool, GlobalAveragePool, Flatten, Reshape, Identity)")
            }
        }

        // The logits: the final layer's accumulators to its own output quantization (the plan's
        // requantization multipliers M_c = S_w[c]·S_in/S_out of that layer).
        let layers = graph.quantizableLayers
        guard case .wide(let layout)? = domains[graph.output],
              let k = layers.firstIndex(where: { graph.nodes[$0.nodeIndex].outputs.first == graph.output }),
              let quantization = model.outputs[k] else {
            throw ExportError(.model, "integer check: the logits '\(graph.values[graph.output.index].name)' are not the output of a quantized layer; the integer network ends with the last layer's requantization")
        }
        let requantizer = try Requantizer(from: layout, to: quantization, node: layers[k].nodeName)
        points.append(QuantizationPoint(value: graph.output, quantization: quantization, requantizer: requantizer))
        steps.append(.requantize(graph.output, requantizer, point: points.count - 1))
    }

    /// The per-example output shape of a Conv or dense layer.
    static func layerShape(_ layer: IntegerLayer, input: [Int], fail: (String) -> ExportError) throws(ExportError) -> [Int] {
        guard case .conv(let a) = layer.kind else { return [layer.scales.count] }
        return try perExample(input, fail: fail) { () throws(ShapeError) in
            try ConvGeometry(input: [1] + input, weight: layer.weightShape, strides: a.strides, pads: a.pads, dilations: a.dilations, group: a.group)
        }
    }

    /// The per-example output shape of a pooling window over `shape` ([C, H, W] or [C, W]).
    static func pooled(_ shape: [Int], _ w: PoolAttributes, fail: (String) -> ExportError) throws(ExportError) -> [Int] {
        try perExample(shape, fail: fail) { () throws(ShapeError) in
            try ConvGeometry(poolInput: [1] + shape, kernel: w.kernelShape, strides: w.strides, pads: w.pads,
                             dilations: w.dilations, ceilMode: w.ceilMode)
        }
    }

    private static func perExample(_ input: [Int], fail: (String) -> ExportError,
                                   _ geometry: () throws(ShapeError) -> ConvGeometry) throws(ExportError) -> [Int] {
        do {
            let g = try geometry()
            return [g.outChannels] + g.outputSpatial
        } catch {
            throw fail("cannot run on input \(input): \(error)")
        }
    }

    /// The per-example shape after a data-movement op that keeps the element order (Identity,
    /// Flatten at axis 1, Reshape); nil for any other op.
    static func reshape(_ op: Op, _ shape: [Int], fail: (String) -> ExportError) throws(ExportError) -> [Int]? {
        let count = shape.reduce(1, *)
        switch op {
        case .identity:
            return shape
        case .flatten(let axis):
            guard axis == 1 else { throw fail("flattens at axis \(axis); only axis 1 keeps the examples apart") }
            return [count]
        case .reshape(let target):
            // Examples stay apart: the batch entry is 0, -1 or a number, the rest holds one example.
            var dims = Array(target.dropFirst())
            for (i, d) in dims.enumerated() where d == 0 { dims[i] = i < shape.count ? shape[i] : 0 }
            let known = dims.filter { $0 != -1 }.reduce(1, *)
            if dims.contains(-1), known > 0, count % known == 0 { dims = dims.map { $0 == -1 ? count / known : $0 } }
            guard dims.reduce(1, *) == count, dims.allSatisfy({ $0 >= 0 }) else {
                throw fail("reshapes one example of shape \(shape) to \(target); only reshapes that keep each example's elements have an integer rule")
            }
            return dims
        default:
            return nil
        }
    }
}
