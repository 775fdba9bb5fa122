import HutchModel
import HutchTensor

/// The registry: the rule that holds each IR op's math. Adding an op takes its case in
/// `Op` (HutchModel/Graph.swift), its lowering from ONNX (HutchModel/GraphBuilder+Lowering.swift),
/// one file under Ops/ with its rule, and one line here.
extension Op {
    var rule: any OpRule {
        switch self {
        case .conv(let a): ConvRule(attributes: a)
        case .gemm(let a): GemmRule(attributes: a)
        case .matMul: MatMulRule()
        case .add: AddMulRule(multiplies: false)
        case .mul: AddMulRule(multiplies: true)
        case .relu: PointwiseRule(op: .relu)
        case .clip(let lo, let hi): PointwiseRule(op: .clip(min: Double(lo), max: Double(hi)))
        case .leakyRelu(let alpha): PointwiseRule(op: .leakyRelu(alpha: Double(alpha)))
        case .sigmoid: PointwiseRule(op: .sigmoid)
        case .tanh: PointwiseRule(op: .tanh)
        case .batchNormalization(let epsilon): BatchNormalizationRule(epsilon: epsilon)
        case .maxPool(let a): PoolRule(kind: .max(a))
        case .averagePool(let a): PoolRule(kind: .average(a))
        case .globalAveragePool: PoolRule(kind: .globalAverage)
        case .flatten, .reshape, .identity: ReshapeRule()
        case .concat(let axis): ConcatRule(axis: axis)
        case .transpose(let perm): TransposeRule(perm: perm)
        case .take(let axis, let indices): TakeRule(axis: axis, indices: indices)
        case .reduceMean(let axes, let keepDims): ReduceMeanRule(axes: axes, keepDims: keepDims)
        case .pad(let pads): PadRule(pads: pads)
        case .repeatBatch: RepeatBatchRule()
        case .embedding: EmbeddingRule()
        case .softmax(let axis): SoftmaxRule(axis: axis, logarithm: false)
        case .logSoftmax(let axis): SoftmaxRule(axis: axis, logarithm: true)
        case .erf: SmoothPointwiseRule(function: .erf)
        case .gelu(let tanhForm): SmoothPointwiseRule(function: tanhForm ? .geluTanh : .gelu)
        case .power(let exponent): SmoothPointwiseRule(function: .power(Double(exponent)))
        case .fakeQuantize(let s, let z, let lo, let hi): FakeQuantizeRule(scale: s, zeroPoint: z, minCode: lo, maxCode: hi)
        case .batchRange: BatchRangeRule()
        case .discrete(let op): DiscreteRule(op: op)
        case .select: SelectRule()
        case .max: MaxRule()
        case .gatherND(let batchDims): GatherNDRule(batchDims: batchDims)
        case .cumulativeSum(let axis, let exclusive, let reverse): CumulativeSumRule(axis: axis, exclusive: exclusive, reverse: reverse)
        }
    }
}

/// The sweeps' entry to the rules, one node at a time.
extension Executor {
    func forward(_ i: Int, _ node: Node, _ x: [Stacked<Scalar>?], _ tape: inout Tape<Scalar>) throws(ExecutionError) -> Stacked<Scalar> {
        try node.op.rule.forward(OpCall(e: self, index: i, node: node, x: x), &tape)
    }

    func tangent(_ i: Int, _ node: Node, _ x: [Stacked<Scalar>?], _ y: Stacked<Scalar>, _ t: [Stacked<Scalar>?],
                 k: Int, _ tape: Tape<Scalar>) throws(ExecutionError) -> Stacked<Scalar>? {
        try node.op.rule.tangent(OpCall(e: self, index: i, node: node, x: x), y, t, k: k, tape)
    }

    func transpose(_ i: Int, _ node: Node, _ x: [Stacked<Scalar>?], _ y: Stacked<Scalar>, _ cot: Stacked<Scalar>,
                   need: [Bool], _ tape: Tape<Scalar>) throws(ExecutionError) -> [Stacked<Scalar>?] {
        try node.op.rule.transpose(OpCall(e: self, index: i, node: node, x: x), y, cot, need: need, tape)
    }

    func curvature(_ i: Int, _ node: Node, _ x: [Stacked<Scalar>?], _ y: Stacked<Scalar>, _ t: [Stacked<Scalar>?],
                   _ cot: Stacked<Scalar>, need: [Bool], k: Int, _ tape: Tape<Scalar>,
                   adding existing: [Stacked<Scalar>?]) throws(ExecutionError) -> [Stacked<Scalar>?] {
        try node.op.rule.curvature(OpCall(e: self, index: i, node: node, x: x), y, t, cot, need: need, k: k, tape, adding: existing)
    }

    /// Wraps a kernel shape error with the node's name.
    func shaped<T>(_ node: Node, _ body: () throws(ShapeError) -> T) throws(ExecutionError) -> T {
        do { return try body() } catch { throw ExecutionError.node(node, error.message) }
    }

    func rejectParameterDerivatives(_ node: Node, _ asked: Bool) throws(ExecutionError) {
        if asked {
            throw ExecutionError.node(node, "derivatives with respect to batch-normalization parameters are not supported; fold BatchNorm into the convolution or leave its parameters out")
        }
    }
}
