import HutchModel
import HutchTensor

/// And, Or, Xor, Not, comparisons and casts to bool or integers on data (`DiscreteOp`), with
/// broadcasting. Their outputs are piecewise constant in the inputs: the tangent is zero and
/// nothing flows back (an attention mask carries no derivative).
struct DiscreteRule: OpRule {
    let op: DiscreteOp

    func accepts(_ inputs: [ValueID?]) -> Bool { inputs.count == (op.isUnary ? 1 : 2) && !inputs.contains(nil) }

    @_specialize(where S == Float)
    func forward<S: TensorScalar>(_ c: OpCall<S>, _ tape: inout Tape<S>) throws(ExecutionError) -> Stacked<S> {
        let inputs = c.x.map { $0! }
        let b = try BroadcastMaps(c.node, inputs.map(\.shape))
        let y = Stacked<S>(shape: b.shape, zeroed: false)
        let (a, second) = (inputs[0].pointer, inputs[inputs.count - 1].pointer)
        let (ma, mb) = (b.maps[0], b.maps[b.maps.count - 1])
        for o in 0..<b.count { y.pointer[o] = S(op.apply(Double(a[ma[o]]), Double(second[mb[o]]))) }
        return y
    }

    func tangent<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ t: [Stacked<S>?], k: Int, _ tape: Tape<S>) throws(ExecutionError) -> Stacked<S>? {
        nil
    }

    func transpose<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ cot: Stacked<S>, need: [Bool], _ tape: Tape<S>) throws(ExecutionError) -> [Stacked<S>?] {
        Array(repeating: nil, count: c.x.count)
    }
}
