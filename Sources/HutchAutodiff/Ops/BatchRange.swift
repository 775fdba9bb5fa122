import HutchModel
import HutchTensor

/// 0, 1, ..., N - 1 for the N examples of the batch being run (ONNX Range(0, N, 1)). Indices
/// made from it address rows of the same batch, so a chunk of a batch indexes itself. No
/// inputs, no derivatives.
struct BatchRangeRule: OpRule {
    func accepts(_ inputs: [ValueID?]) -> Bool { inputs.isEmpty }

    @_specialize(where S == Float)
    func forward<S: TensorScalar>(_ c: OpCall<S>, _ tape: inout Tape<S>) throws(ExecutionError) -> Stacked<S> {
        let y = Stacked<S>(shape: [tape.batch], zeroed: false)
        for n in 0..<tape.batch { y.pointer[n] = S(n) }
        return y
    }

    func tangent<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ t: [Stacked<S>?], k: Int, _ tape: Tape<S>) throws(ExecutionError) -> Stacked<S>? {
        nil
    }

    func transpose<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ cot: Stacked<S>, need: [Bool], _ tape: Tape<S>) throws(ExecutionError) -> [Stacked<S>?] {
        []
    }
}
