import HutchModel
import HutchTensor

/// Concat along a non-batch axis: linear; each input's tangent or adjoint is its slice.
struct ConcatRule: OpRule {
    let axis: Int

    /// Each input's adjoint is its slice of y*.
    func reverseReads(need: [Bool]) -> TapeReads { .shapesOnly(need.count) }

    func accepts(_ inputs: [ValueID?]) -> Bool { !inputs.isEmpty && inputs.allSatisfy { $0 != nil } }

    @_specialize(where S == Float)
    func forward<S: TensorScalar>(_ c: OpCall<S>, _ tape: inout Tape<S>) throws(ExecutionError) -> Stacked<S> {
        try c.e.concatForward(c.node, axis, c.x.map { $0! })
    }

    @_specialize(where S == Float)
    func tangent<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ t: [Stacked<S>?], k: Int, _ tape: Tape<S>) throws(ExecutionError) -> Stacked<S>? {
        c.e.concatTangent(axis, c.x, y, t, k)
    }

    @_specialize(where S == Float)
    func transpose<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ cot: Stacked<S>, need: [Bool], _ tape: Tape<S>) throws(ExecutionError) -> [Stacked<S>?] {
        c.e.concatTranspose(axis, c.x, y, cot, need)
    }
}

extension Executor {
    private func concatLayout(_ axis: Int, _ shapes: [[Int]]) -> (outer: Int, inner: [Int]) {
        let outer = shapes[0].prefix(axis).reduce(1, *)
        return (outer, shapes.map { $0.dropFirst(axis).reduce(1, *) })
    }

    func concatForward(_ node: Node, _ axis: Int, _ x: [Stacked<Scalar>]) throws(ExecutionError) -> Stacked<Scalar> {
        let rank = x[0].shape.count
        let a = axis < 0 ? axis + rank : axis
        guard a >= 0, a < rank else { throw ExecutionError.node(node, "axis \(axis) is out of range for rank \(rank)") }
        var shape = x[0].shape
        for other in x.dropFirst() {
            guard other.shape.count == rank,
                  (0..<rank).allSatisfy({ $0 == a || other.shape[$0] == shape[$0] }) else {
                throw ExecutionError.node(node, "inputs of shapes \(x.map(\.shape)) differ outside axis \(axis)")
            }
            shape[a] += other.shape[a]
        }
        let y = Stacked<Scalar>(shape: shape, zeroed: false)
        concatCopy(a, x.map { Optional($0) }, x.map(\.shape), y, block: 0)
        return y
    }

    /// Writes block j of each part (zeros for a missing part) side by side into block j of y.
    private func concatCopy(_ axis: Int, _ parts: [Stacked<Scalar>?], _ shapes: [[Int]], _ y: Stacked<Scalar>, block j: Int) {
        let (outer, inner) = concatLayout(axis, shapes)
        let row = inner.reduce(0, +)
        let out = y.block(j)
        var offset = 0
        for (p, part) in parts.enumerated() {
            for o in 0..<outer {
                let dst = out + o * row + offset
                if let part { dst.update(from: part.block(j) + o * inner[p], count: inner[p]) }
                else { dst.update(repeating: 0, count: inner[p]) }
            }
            offset += inner[p]
        }
    }

    func normalizedAxis(_ axis: Int, _ rank: Int) -> Int { axis < 0 ? axis + rank : axis }

    func concatTangent(_ axis: Int, _ x: [Stacked<Scalar>?], _ y: Stacked<Scalar>, _ t: [Stacked<Scalar>?], _ k: Int) -> Stacked<Scalar>? {
        guard t.contains(where: { $0 != nil }) else { return nil }
        let out = Stacked<Scalar>(shape: y.shape, blocks: k, zeroed: false)
        for j in 0..<k { concatCopy(normalizedAxis(axis, y.shape.count), t, x.map { $0!.shape }, out, block: j) }
        return out
    }

    func concatTranspose(_ axis: Int, _ x: [Stacked<Scalar>?], _ y: Stacked<Scalar>, _ cot: Stacked<Scalar>,
                         _ need: [Bool]) -> [Stacked<Scalar>?] {
        let shapes = x.map { $0!.shape }
        let (outer, inner) = concatLayout(normalizedAxis(axis, y.shape.count), shapes)
        let row = inner.reduce(0, +)
        var result: [Stacked<Scalar>?] = Array(repeating: nil, count: x.count)
        var offset = 0
        for p in 0..<x.count {
            if need[p] {
                let d = Stacked<Scalar>(shape: shapes[p], blocks: cot.blocks, zeroed: false)
                for j in 0..<cot.blocks {
                    for o in 0..<outer {
                        (d.block(j) + o * inner[p]).update(from: cot.block(j) + o * row + offset, count: inner[p])
                    }
                }
                result[p] = d
            }
            offset += inner[p]
        }
        return result
    }
}
