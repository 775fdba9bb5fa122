import HutchModel
import HutchTensor

/// Inference BatchNormalization, y = x * scale + shift per channel (scale and shift kept on the
/// tape): linear in x; derivatives for its parameters are refused.
struct BatchNormalizationRule: OpRule {
    let epsilon: Float

    /// The adjoint scales by the tape's affine; the parameters' adjoints are refused unread.
    func reverseReads(need: [Bool]) -> TapeReads { .shapesOnly(need.count) }

    func accepts(_ inputs: [ValueID?]) -> Bool { inputs.count == 5 && inputs.allSatisfy { $0 != nil } }

    @_specialize(where S == Float)
    func forward<S: TensorScalar>(_ c: OpCall<S>, _ tape: inout Tape<S>) throws(ExecutionError) -> Stacked<S> {
        try c.e.batchNormForward(c.index, c.node, epsilon, c.x, &tape)
    }

    @_specialize(where S == Float)
    func tangent<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ t: [Stacked<S>?], k: Int, _ tape: Tape<S>) throws(ExecutionError) -> Stacked<S>? {
        try c.e.rejectParameterDerivatives(c.node, t.dropFirst().contains { $0 != nil })
        return t[0].map { c.e.batchNormApply(tape.affine[c.index]!, $0) }
    }

    @_specialize(where S == Float)
    func transpose<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ cot: Stacked<S>, need: [Bool], _ tape: Tape<S>) throws(ExecutionError) -> [Stacked<S>?] {
        try c.e.rejectParameterDerivatives(c.node, need.dropFirst().contains(true))
        return [need[0] ? c.e.batchNormApply(tape.affine[c.index]!, cot) : nil, nil, nil, nil, nil]
    }
}

extension Executor {
    func batchNormForward(_ i: Int, _ node: Node, _ eps: Float, _ x: [Stacked<Scalar>?],
                          _ tape: inout Tape<Scalar>) throws(ExecutionError) -> Stacked<Scalar> {
        let input = x[0]!
        guard input.shape.count >= 2 else { throw ExecutionError.node(node, "input shape \(input.shape) has no channel axis") }
        let c = input.shape[1]
        let params = x.dropFirst().map { $0! }
        guard params.allSatisfy({ $0.shape == [c] }) else {
            throw ExecutionError.node(node, "scale, bias, mean and variance must have shape [\(c)], got \(params.map(\.shape))")
        }
        var scale = [Scalar](repeating: 0, count: c), shift = [Scalar](repeating: 0, count: c)
        for ch in 0..<c {
            let variance = params[3].pointer[ch] + Scalar(eps)
            guard variance > 0 else { throw ExecutionError.node(node, "variance + epsilon is not positive in channel \(ch)") }
            scale[ch] = params[0].pointer[ch] / variance.squareRoot()
            shift[ch] = params[1].pointer[ch] - params[2].pointer[ch] * scale[ch]
        }
        tape.affine[i] = (scale, shift)
        let y = Stacked<Scalar>(shape: input.shape, zeroed: false)
        scale.withUnsafeBufferPointer { s in
            shift.withUnsafeBufferPointer { b in
                Kernels.channelAffine(x: input.pointer, scale: s.baseAddress, shift: b.baseAddress, out: y.pointer,
                                      batch: input.shape[0], channels: c, spatial: input.shape.dropFirst(2).reduce(1, *),
                                      accumulate: false)
            }
        }
        return y
    }

    func batchNormApply(_ affine: (scale: [Scalar], shift: [Scalar]), _ g: Stacked<Scalar>) -> Stacked<Scalar> {
        let out = Stacked<Scalar>(shape: g.shape, blocks: g.blocks, zeroed: false)
        affine.scale.withUnsafeBufferPointer { s in
            Kernels.channelAffine(x: g.pointer, scale: s.baseAddress, shift: nil, out: out.pointer,
                                  batch: g.blocks * g.shape[0], channels: g.shape[1],
                                  spatial: g.shape.dropFirst(2).reduce(1, *), accumulate: false)
        }
        return out
    }
}
