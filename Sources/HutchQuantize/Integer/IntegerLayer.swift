import HutchModel
import HutchTensor

/// One quantized layer ready for integer execution: its accumulator is
/// acc[c] = Σ (x − z_x)(w − z_w[c]) + bias[c], and stands for the real value acc[c] · scales[c]
/// with scales[c] = α · S_x · S_w[c] (Gemm's alpha folded into the scale).
struct IntegerLayer: Sendable {
    enum Kind: Sendable {
        case conv(ConvAttributes)
        /// Gemm (transA = 0) or 2-D MatMul: x [N, K] times the weight, [M, K] when transposed.
        case dense(transposed: Bool)
    }

    var node: String
    var kind: Kind
    var weightShape: [Int]
    /// w − z_w of its output channel, in the weight's ONNX layout.
    var centered: [Int64]
    /// The bias rounded half to even to the accumulator scale: round(β · b[c] / scales[c]).
    var bias: [Int64]
    /// |round(β · b[c] / scales[c]) − β · b[c] / scales[c]| ≤ 1/2: the only rounding of the layer.
    var biasError: [Double]
    var inputZero: Int64
    var scales: [Double]

    init(node: Node, layer: QuantizedLayer, input: ActivationQuantization, bias: Tensor<Float>?) throws(ExportError) {
        let fail = { (why: String) in ExportError(.model, "integer check: node '\(node.name)' (\(node.op.onnxType)): \(why)") }
        let q = layer.weight
        var alpha = 1.0, beta = 1.0
        switch node.op {
        case .conv(let attributes):
            kind = .conv(attributes)
        case .gemm(let attributes):
            guard !attributes.transA, attributes.alpha > 0 else { throw fail("needs transA = 0 and alpha > 0") }
            kind = .dense(transposed: attributes.transB)
            alpha = Double(attributes.alpha)
            beta = Double(attributes.beta)
        case .matMul:
            guard q.shape.count == 2 else { throw fail("only a 2-D weight has an integer rule") }
            kind = .dense(transposed: false)
        default:
            throw fail("is not a layer the integer network can run")
        }
        // The output channel axis: the quantization axis, or for a per-tensor weight the one
        // the layer's kind implies ([K, M] weights of an untransposed dense layer: axis 1).
        var axis = q.axis ?? 0
        if q.axis == nil, case .dense(transposed: false) = kind { axis = 1 }
        let channels = q.shape[axis]
        let inner = q.shape[(axis + 1)...].reduce(1, *)
        let zeros = q.axis == nil ? Array(repeating: q.zeroPoints[0], count: channels) : q.zeroPoints
        self.node = node.name
        weightShape = q.shape
        centered = q.codes.enumerated().map { i, code in Int64(code) - Int64(zeros[(i / inner) % channels]) }
        inputZero = Int64(input.parameters.zeroPoint)
        let weightScales = q.axis == nil ? Array(repeating: q.scales[0], count: channels) : q.scales
        scales = weightScales.map { alpha * Double(input.parameters.scale) * Double($0) }

        var realBias = [Double](repeating: 0, count: channels)
        if let bias {
            guard bias.count == channels || bias.count == 1 else {
                throw fail("bias of shape \(bias.shape) is not one value per output channel")
            }
            for c in 0..<channels { realBias[c] = beta * Double(bias.data[bias.count == 1 ? 0 : c]) }
        }
        var rounded: [Int64] = [], errors: [Double] = []
        for (b, s) in zip(realBias, scales) {
            let r = (b / s).rounded(.toNearestOrEven)
            guard abs(r) <= Double(Int32.max) else { throw fail("bias \(b) is \(r) accumulator steps, beyond int32") }
            rounded.append(Int64(r))
            errors.append(abs(r - b / s))
        }
        self.bias = rounded
        biasError = errors
    }

    /// The accumulators for codes `x`, in the output's shape.
    func callAsFunction(_ x: IntegerTensor) throws(ExportError) -> IntegerTensor {
        switch kind {
        case .conv(let a):
            let g: ConvGeometry
            do {
                g = try ConvGeometry(input: x.shape, weight: weightShape, strides: a.strides, pads: a.pads,
                                     dilations: a.dilations, group: a.group)
            } catch {
                throw ExportError(.model, "integer check: node '\(node)': \(error)")
            }
            return try IntegerTensor(shape: [g.batch, g.outChannels] + g.outputSpatial, sums: IntegerKernels.conv(x, layer: self, g), node: node)
        case .dense(let transposed):
            let k = transposed ? weightShape[1] : weightShape[0]
            guard x.shape.count == 2, x.shape[1] == k else {
                throw ExportError(.model, "integer check: node '\(node)': input \(x.shape) does not match weight \(weightShape)")
            }
            return try IntegerTensor(shape: [x.shape[0], scales.count], sums: IntegerKernels.dense(x, layer: self, transposed: transposed), node: node)
        }
    }
}
