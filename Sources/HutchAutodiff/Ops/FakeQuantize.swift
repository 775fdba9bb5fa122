import HutchModel
import HutchTensor

/// Activation fake quantization (a QuantizeLinear -> DequantizeLinear pair): it exists to run
/// the quantized model as onnxruntime does. Derivatives are refused, except the gradient of
/// quantization-aware training when the executor asks for the straight-through estimator.
struct FakeQuantizeRule: OpRule {
    let scale: Float, zeroPoint: Int32, minCode: Int32, maxCode: Int32

    @_specialize(where S == Float)
    func forward<S: TensorScalar>(_ c: OpCall<S>, _ tape: inout Tape<S>) throws(ExecutionError) -> Stacked<S> {
        c.e.fakeQuantizeForward(c.x[0]!, scale, zeroPoint, minCode, maxCode)
    }

    func tangent<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ t: [Stacked<S>?], k: Int, _ tape: Tape<S>) throws(ExecutionError) -> Stacked<S>? {
        throw c.e.fakeQuantizeNotDifferentiable(c.node)
    }

    func transpose<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ cot: Stacked<S>, need: [Bool], _ tape: Tape<S>) throws(ExecutionError) -> [Stacked<S>?] {
        guard c.e.straightThroughFakeQuantize else { throw c.e.fakeQuantizeNotDifferentiable(c.node) }
        var result = [Stacked<S>?](repeating: nil, count: c.x.count)
        if need[0] { result[0] = c.e.straightThroughTranspose(c.x[0]!, cot, scale, zeroPoint, minCode, maxCode) }
        return result
    }
}

extension Executor {
    /// Computed in Float32 whatever `Scalar` is, with ONNX QuantizeLinear's rounding (half to
    /// even) and saturation, then DequantizeLinear: (q - zeroPoint) * scale.
    func fakeQuantizeForward(_ x: Stacked<Scalar>, _ scale: Float, _ zeroPoint: Int32,
                             _ minCode: Int32, _ maxCode: Int32) -> Stacked<Scalar> {
        let y = Stacked<Scalar>(shape: x.shape, blocks: x.blocks, zeroed: false)
        let lo = Float(minCode), hi = Float(maxCode), zero = Float(zeroPoint)
        for index in 0..<x.count {
            let value = Float(x.pointer[index])
            var q = (value / scale).rounded(.toNearestOrEven) + zero
            q = q.isNaN ? zero : Swift.min(Swift.max(q, lo), hi)
            y.pointer[index] = Scalar((q - zero) * scale)
        }
        return y
    }

    /// The straight-through estimator as PyTorch's fake_quantize backward: the adjoint passes
    /// where the rounded code lies inside [minCode, maxCode] and is 0 where the value saturates.
    func straightThroughTranspose(_ x: Stacked<Scalar>, _ cot: Stacked<Scalar>, _ scale: Float, _ zeroPoint: Int32,
                                  _ minCode: Int32, _ maxCode: Int32) -> Stacked<Scalar> {
        let result = Stacked<Scalar>(shape: cot.shape, blocks: cot.blocks, zeroed: false)
        let lo = Float(minCode), hi = Float(maxCode), zero = Float(zeroPoint)
        for index in 0..<cot.count {
            let q = (Float(x.pointer[index % x.count]) / scale).rounded(.toNearestOrEven) + zero
            result.pointer[index] = q >= lo && q <= hi ? cot.pointer[index] : 0
        }
        return result
    }

    func fakeQuantizeNotDifferentiable(_ node: Node) -> ExecutionError {
        ExecutionError.node(node, "fake quantization is not differentiable; compute derivatives on the float model")
    }
}
