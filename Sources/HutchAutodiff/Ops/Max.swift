import HutchModel
import HutchTensor

/// The elementwise maximum of its inputs (ONNX Max, any number of inputs, broadcasting).
/// Piecewise linear: each output follows its largest input. Where k inputs tie for the maximum,
/// each gets 1/k of the derivative, tangent and transpose alike, which is PyTorch's rule for
/// torch.maximum (two tied inputs get half the gradient each). No curvature.
struct MaxRule: OpRule {
    func accepts(_ inputs: [ValueID?]) -> Bool { !inputs.isEmpty && !inputs.contains(nil) }

    @_specialize(where S == Float)
    func forward<S: TensorScalar>(_ c: OpCall<S>, _ tape: inout Tape<S>) throws(ExecutionError) -> Stacked<S> {
        let inputs = c.x.map { $0! }
        let b = try BroadcastMaps(c.node, inputs.map(\.shape))
        let y = Stacked<S>(shape: b.shape, zeroed: false)
        for o in 0..<b.count {
            var top = inputs[0].pointer[b.maps[0][o]]
            for i in 1..<inputs.count { top = Swift.max(top, inputs[i].pointer[b.maps[i][o]]) }
            y.pointer[o] = top
        }
        return y
    }

    /// For each output entry, the share 1/k of each of its k tied inputs (0 for the others).
    private func shares<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ b: BroadcastMaps) -> [[S]] {
        var shares = [[S]](repeating: [S](repeating: 0, count: b.count), count: c.x.count)
        for o in 0..<b.count {
            let tied = (0..<c.x.count).filter { c.x[$0]!.pointer[b.maps[$0][o]] == y.pointer[o] }
            for i in tied { shares[i][o] = 1 / S(tied.count) }
        }
        return shares
    }

    @_specialize(where S == Float)
    func tangent<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ t: [Stacked<S>?], k: Int, _ tape: Tape<S>) throws(ExecutionError) -> Stacked<S>? {
        guard t.contains(where: { $0 != nil }) else { return nil }
        let b = try BroadcastMaps(c.node, c.x.map { $0!.shape })
        let shares = shares(c, y, b)
        let out = Stacked<S>(shape: y.shape, blocks: k)
        for (i, ti) in t.enumerated() {
            guard let ti else { continue }
            for j in 0..<k {
                let (src, dst) = (ti.block(j), out.block(j))
                for o in 0..<b.count where shares[i][o] != 0 { dst[o] += shares[i][o] * src[b.maps[i][o]] }
            }
        }
        return out
    }

    @_specialize(where S == Float)
    func transpose<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ cot: Stacked<S>, need: [Bool], _ tape: Tape<S>) throws(ExecutionError) -> [Stacked<S>?] {
        let b = try BroadcastMaps(c.node, c.x.map { $0!.shape })
        let shares = shares(c, y, b)
        var result = [Stacked<S>?](repeating: nil, count: c.x.count)
        for i in 0..<c.x.count where need[i] {
            let d = Stacked<S>(shape: c.x[i]!.shape, blocks: cot.blocks)
            for j in 0..<cot.blocks {
                let (src, dst) = (cot.block(j), d.block(j))
                for o in 0..<b.count where shares[i][o] != 0 { dst[b.maps[i][o]] += shares[i][o] * src[o] }
            }
            result[i] = d
        }
        return result
    }
}
