import HutchModel
import HutchTensor

/// Where(c, x, y) with a condition that is data: x where c is not 0, else y, broadcasting the
/// three. For a fixed condition it is linear in the branches: the tangent selects the branches'
/// tangents, the transpose routes the adjoint to the branch each entry took (summed over
/// broadcast entries). The condition carries no derivative; no curvature.
struct SelectRule: OpRule {
    func accepts(_ inputs: [ValueID?]) -> Bool { inputs.count == 3 && !inputs.contains(nil) }

    @_specialize(where S == Float)
    func forward<S: TensorScalar>(_ c: OpCall<S>, _ tape: inout Tape<S>) throws(ExecutionError) -> Stacked<S> {
        let (condition, x, y) = (c.x[0]!, c.x[1]!, c.x[2]!)
        let b = try BroadcastMaps(c.node, [condition.shape, x.shape, y.shape])
        let out = Stacked<S>(shape: b.shape, zeroed: false)
        for o in 0..<b.count {
            out.pointer[o] = condition.pointer[b.maps[0][o]] != 0 ? x.pointer[b.maps[1][o]] : y.pointer[b.maps[2][o]]
        }
        return out
    }

    @_specialize(where S == Float)
    func tangent<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ t: [Stacked<S>?], k: Int, _ tape: Tape<S>) throws(ExecutionError) -> Stacked<S>? {
        guard t[1] != nil || t[2] != nil else { return nil }
        let condition = c.x[0]!
        let b = try BroadcastMaps(c.node, [condition.shape, c.x[1]!.shape, c.x[2]!.shape])
        let out = Stacked<S>(shape: y.shape, blocks: k)
        for j in 0..<k {
            let dst = out.block(j)
            for o in 0..<b.count {
                let branch = condition.pointer[b.maps[0][o]] != 0 ? 1 : 2
                if let tb = t[branch] { dst[o] = tb.block(j)[b.maps[branch][o]] }
            }
        }
        return out
    }

    @_specialize(where S == Float)
    func transpose<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ cot: Stacked<S>, need: [Bool], _ tape: Tape<S>) throws(ExecutionError) -> [Stacked<S>?] {
        let condition = c.x[0]!
        let b = try BroadcastMaps(c.node, [condition.shape, c.x[1]!.shape, c.x[2]!.shape])
        var result: [Stacked<S>?] = [nil, nil, nil]
        for branch in 1...2 where need[branch] {
            let d = Stacked<S>(shape: c.x[branch]!.shape, blocks: cot.blocks)
            let taken: S = branch == 1 ? 1 : 0
            for j in 0..<cot.blocks {
                let (src, dst) = (cot.block(j), d.block(j))
                for o in 0..<b.count where (condition.pointer[b.maps[0][o]] != 0 ? 1 : 0) == taken { dst[b.maps[branch][o]] += src[o] }
            }
            result[branch] = d
        }
        return result
    }
}
