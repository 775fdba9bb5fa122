import HutchModel
import HutchTensor

/// An embedding lookup: y[..., :] = table[id, :] for the token ids of the first input (exact
/// integers carried as floats) and the table of the second. Linear in the table, so it has no
/// curvature: a Hessian-vector product w.r.t. the table comes from the ops downstream. The ids
/// have no derivative; the transpose adds each adjoint row into the row of the table its id
/// picked (a scatter-add).
struct EmbeddingRule: OpRule {
    func accepts(_ inputs: [ValueID?]) -> Bool { inputs.count == 2 && inputs[0] != nil && inputs[1] != nil }

    @_specialize(where S == Float)
    func forward<S: TensorScalar>(_ c: OpCall<S>, _ tape: inout Tape<S>) throws(ExecutionError) -> Stacked<S> {
        let (ids, table) = (c.x[0]!, c.x[1]!)
        let (rows, width) = try embeddingRows(c.node, ids: ids, table: table)
        let y = Stacked<S>(shape: ids.shape + table.shape.dropFirst(), zeroed: false)
        for (i, row) in rows.enumerated() { (y.pointer + i * width).update(from: table.pointer + row * width, count: width) }
        return y
    }

    @_specialize(where S == Float)
    func tangent<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ t: [Stacked<S>?], k: Int, _ tape: Tape<S>) throws(ExecutionError) -> Stacked<S>? {
        guard let dt = t[1] else { return nil }
        let (rows, width) = try embeddingRows(c.node, ids: c.x[0]!, table: c.x[1]!)
        let out = Stacked<S>(shape: y.shape, blocks: dt.blocks, zeroed: false)
        for j in 0..<dt.blocks {
            for (i, row) in rows.enumerated() { (out.block(j) + i * width).update(from: dt.block(j) + row * width, count: width) }
        }
        return out
    }

    @_specialize(where S == Float)
    func transpose<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ cot: Stacked<S>, need: [Bool], _ tape: Tape<S>) throws(ExecutionError) -> [Stacked<S>?] {
        guard need[1] else { return [nil, nil] }
        let (rows, width) = try embeddingRows(c.node, ids: c.x[0]!, table: c.x[1]!)
        let out = Stacked<S>(shape: c.x[1]!.shape, blocks: cot.blocks)
        for j in 0..<cot.blocks {
            for (i, row) in rows.enumerated() {
                let (to, from) = (out.block(j) + row * width, cot.block(j) + i * width)
                for e in 0..<width { to[e] += from[e] }
            }
        }
        return [nil, out]
    }
}

/// The table row of every id, checked once per call, and the row width.
func embeddingRows<S: TensorScalar>(_ node: Node, ids: Stacked<S>, table: Stacked<S>) throws(ExecutionError) -> (rows: [Int], width: Int) {
    let vocabulary = table.shape[0], width = table.blockCount / max(vocabulary, 1)
    var rows = [Int](repeating: 0, count: ids.blockCount)
    for i in 0..<ids.blockCount {
        let id = ids.pointer[i]
        guard id >= 0, id < S(vocabulary), id == id.rounded() else {
            throw ExecutionError.node(node, "token id \(id) at flat index \(i) is not an integer in 0..<\(vocabulary)")
        }
        rows[i] = Int(id)
    }
    return (rows, width)
}

extension Executor {
    /// Squared norms of per-example gradients of the table for m stacked adjoints: [m * N].
    /// Example i's gradient adds its tokens' adjoint rows into the rows their ids picked, so the
    /// rows of repeated ids are summed before squaring (tokens sorted by id; no [V, D] buffer).
    func embeddingPerExampleNorms(_ node: Node, _ x: [Stacked<Scalar>?], _ cot: Stacked<Scalar>, examples n: Int) throws(ExecutionError) -> [Scalar] {
        let (ids, table) = (x[0]!, x[1]!)
        let (rows, width) = try embeddingRows(node, ids: ids, table: table)
        guard ids.shape.first == n, n > 0 else {
            throw ExecutionError.node(node, "per-example norms need the ids' batch first, got shape \(ids.shape)")
        }
        let tokens = rows.count / n
        let m = cot.blocks
        var out = [Scalar](repeating: 0, count: m * n)
        var sum = [Scalar](repeating: 0, count: width)
        for i in 0..<n {
            let order = (0..<tokens).sorted { (rows[i * tokens + $0], $0) < (rows[i * tokens + $1], $1) }
            for j in 0..<m {
                let g = cot.block(j) + i * tokens * width
                var acc: Scalar = 0, start = 0
                while start < tokens {
                    var end = start
                    for e in 0..<width { sum[e] = 0 }
                    while end < tokens, rows[i * tokens + order[end]] == rows[i * tokens + order[start]] {
                        for e in 0..<width { sum[e] += g[order[end] * width + e] }
                        end += 1
                    }
                    for e in 0..<width { acc += sum[e] * sum[e] }
                    start = end
                }
                out[j * n + i] = acc
            }
        }
        return out
    }
}
