import HutchModel
import HutchTensor

/// Activation fake quantization (a QuantizeLinear -> DequantizeLinear pair), forward only:
/// it exists to run the quantized model as onnxruntime does, not to be differentiated.
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
        throw c.e.fakeQuantizeNotDifferentiable(c.node)
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

    func fakeQuantizeNotDifferentiable(_ node: Node) -> ExecutionError {
        ExecutionError.node(node, "fake quantization is not differentiable; compute derivatives on the float model")
    }
}
