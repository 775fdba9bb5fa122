import HutchModel
import HutchTensor

/// The pointwise activations with kernels in HutchTensor (Relu, Clip, LeakyRelu, Sigmoid, Tanh):
/// tangent and transpose are the same diagonal map f'(x); Sigmoid and Tanh add f''(x) x' y*.
struct PointwiseRule: OpRule {
    let op: UnaryOp

    @_specialize(where S == Float)
    func forward<S: TensorScalar>(_ c: OpCall<S>, _ tape: inout Tape<S>) throws(ExecutionError) -> Stacked<S> {
        c.e.unaryForward(op, c.x[0]!)
    }

    @_specialize(where S == Float)
    func tangent<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ t: [Stacked<S>?], k: Int, _ tape: Tape<S>) throws(ExecutionError) -> Stacked<S>? {
        t[0].map { c.e.unaryTranspose(op, c.x[0]!, y, $0) }
    }

    @_specialize(where S == Float)
    func transpose<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ cot: Stacked<S>, need: [Bool], _ tape: Tape<S>) throws(ExecutionError) -> [Stacked<S>?] {
        [need[0] ? c.e.unaryTranspose(op, c.x[0]!, y, cot) : nil]
    }

    var hasCurvature: Bool { !op.isPiecewiseLinear }
    func reverseReads(need: [Bool]) -> TapeReads { .pointwise(need, fromOutput: op.derivativeReadsOutput) }

    @_specialize(where S == Float)
    func curvature<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ t: [Stacked<S>?], _ cot: Stacked<S>, need: [Bool], k: Int,
                                    _ tape: Tape<S>, adding existing: [Stacked<S>?]) throws(ExecutionError) -> [Stacked<S>?] {
        guard hasCurvature, need[0], let t0 = t[0] else { return existing }
        return existing.summed(with: [c.e.unaryCurvature(op, y, t0, cot)])
    }
}

extension Executor {
    func unaryForward(_ op: UnaryOp, _ x: Stacked<Scalar>) -> Stacked<Scalar> {
        let y = Stacked<Scalar>(shape: x.shape, zeroed: false)
        Kernels.unaryForward(op, x: x.pointer, y: y.pointer, count: x.count)
        return y
    }

    /// f'(x) (.) g for stacked g: the tangent and the transpose are the same diagonal map. Only
    /// the operand f' is computed from is touched (`derivativeReadsOutput`): the kernel reads x
    /// for ReLU, Clip and LeakyRelu and y for Sigmoid and Tanh, and ReLU's x > 0 is y > 0.
    func unaryTranspose(_ op: UnaryOp, _ x: Stacked<Scalar>, _ y: Stacked<Scalar>, _ g: Stacked<Scalar>) -> Stacked<Scalar> {
        let out = Stacked<Scalar>(shape: x.shape, blocks: g.blocks, zeroed: false)
        let primal = op.derivativeReadsOutput ? y.pointer : x.pointer
        Kernels.unaryDerivativeTimes(op, x: primal, y: primal, g: g.pointer, out: out.pointer,
                                     count: x.blockCount, blocks: g.blocks, accumulate: false)
        return out
    }

    func unaryCurvature(_ op: UnaryOp, _ y: Stacked<Scalar>, _ t: Stacked<Scalar>, _ cot: Stacked<Scalar>) -> Stacked<Scalar> {
        let out = Stacked<Scalar>(shape: y.shape, blocks: t.blocks)
        Kernels.unarySecondDerivativeTimes(op, y: y.pointer, t: t.pointer, g: cot.pointer, out: out.pointer,
                                           count: y.blockCount, blocks: t.blocks)
        return out
    }
}

extension UnaryOp {
    /// Whether f'(x) is computed from y = f(x) rather than x, so that the reverse sweep keeps
    /// only y on the tape: Sigmoid and Tanh by their formulas, ReLU because y > 0 exactly where
    /// x > 0 (a NaN gives 0 either way: the same bits). Clip's mask includes its bounds, which y
    /// cannot tell from beyond them, and LeakyRelu's slope may be negative: both read x.
    var derivativeReadsOutput: Bool {
        switch self {
        case .relu, .sigmoid, .tanh: true
        case .clip, .leakyRelu: false
        }
    }
}
