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
    var steps: [IntegerStep]
    public private(set) var points: [QuantizationPoint]
    var input: ValueID

    public init(model: QuantizedModel, exampleShape: [Int]) throws(ExportError) {
        guard !model.weightsOnly else {
            throw ExportError(.plan, "integer check: the activations are not quantized (--weights-only); the integer network needs quantized activations")
        }
        var compiler = IntegerCompiler(model: model, exampleShape: exampleShape)
        for index in model.graph.nodes.indices { try compiler.compile(nodeAt: index) }
        try compiler.requantizeLogits()
        steps = compiler.steps
        points = compiler.points
        input = model.graph.input
    }
}
