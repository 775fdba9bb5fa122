import HutchModel
import HutchTensor

/// An embedding lookup: y[..., :] = table[id, :] for the token ids of the second input (exact
/// integers carried as floats). Linear in the table; the ids have no derivative, and the
/// transpose adds each adjoint row into the row of the table its id picked.
struct EmbeddingRule: OpRule {
    func accepts(_ inputs: [ValueID?]) -> Bool { inputs.count == 2 && inputs[0] != nil && inputs[1] != nil }

    /// The table row of every id, checked once per call.
    private func rows<S: TensorScalar>(_ c: OpCall<S>) throws(ExecutionError) -> (rows: [Int], width: Int) {
        let (table, ids) = (c.x[0]!, c.x[1]!)
        let vocabulary = table.shape[0], width = table.blockCount / max(vocabulary, 1)
        var rows = [Int](repeating: 0, count: ids.blockCount)
        for i in 0..<ids.blockCount {
            let id = ids.pointer[i]
            guard id >= 0, id < S(vocabulary), id == id.rounded() else {
                throw ExecutionError.node(c.node, "token id \(id) at flat index \(i) is not an integer in 0..<\(vocabulary)")
            }
            rows[i] = Int(id)
        }
        return (rows, width)
    }

    @_specialize(where S == Float)
    func forward<S: TensorScalar>(_ c: OpCall<S>, _ tape: inout Tape<S>) throws(ExecutionError) -> Stacked<S> {
        let (table, ids) = (c.x[0]!, c.x[1]!)
        let (rows, width) = try self.rows(c)
        let y = Stacked<S>(shape: ids.shape + table.shape.dropFirst(), zeroed: false)
        for (i, row) in rows.enumerated() { (y.pointer + i * width).update(from: table.pointer + row * width, count: width) }
        return y
    }

    @_specialize(where S == Float)
    func tangent<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ t: [Stacked<S>?], k: Int, _ tape: Tape<S>) throws(ExecutionError) -> Stacked<S>? {
        guard let dt = t[0] else { return nil }
        let (rows, width) = try self.rows(c)
        let out = Stacked<S>(shape: y.shape, blocks: dt.blocks, zeroed: false)
        for j in 0..<dt.blocks {
            for (i, row) in rows.enumerated() { (out.block(j) + i * width).update(from: dt.block(j) + row * width, count: width) }
        }
        return out
    }

    @_specialize(where S == Float)
    func transpose<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ cot: Stacked<S>, need: [Bool], _ tape: Tape<S>) throws(ExecutionError) -> [Stacked<S>?] {
        guard need[0] else { return [nil, nil] }
        let (rows, width) = try self.rows(c)
        let out = Stacked<S>(shape: c.x[0]!.shape, blocks: cot.blocks)
        for j in 0..<cot.blocks {
            for (i, row) in rows.enumerated() {
                let (to, from) = (out.block(j) + row * width, cot.block(j) + i * width)
                for e in 0..<width { to[e] += from[e] }
            }
        }
        return [out, nil]
    }
}
