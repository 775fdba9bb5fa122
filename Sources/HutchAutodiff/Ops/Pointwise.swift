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

    /// f'(x) (.) g for stacked g: the tangent and the transpose are the same diagonal map.
    func unaryTranspose(_ op: UnaryOp, _ x: Stacked<Scalar>, _ y: Stacked<Scalar>, _ g: Stacked<Scalar>) -> Stacked<Scalar> {
        let out = Stacked<Scalar>(shape: x.shape, blocks: g.blocks, zeroed: false)
        Kernels.unaryDerivativeTimes(op, x: x.pointer, y: y.pointer, g: g.pointer, out: out.pointer,
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
