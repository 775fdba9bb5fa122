import HutchModel
import HutchTensor

extension Executor {
    /// One forward pass returning the requested intermediate values (in the order asked), e.g.
    /// the activations a quantizer calibrates its ranges on. Initializers and the input may be
    /// asked for too.
    public func values(_ ids: [ValueID], input: Tensor<Scalar>) throws(ExecutionError) -> [Tensor<Scalar>] {
        let tape = try forwardTape(input)
        var result: [Tensor<Scalar>] = []
        for id in ids {
            guard id.index >= 0, id.index < tape.values.count, let value = tape.values[id.index] else {
                throw ExecutionError("value \(id) is not computed by the forward pass")
            }
            result.append(value.tensor(block: 0))
        }
        return result
    }
}
