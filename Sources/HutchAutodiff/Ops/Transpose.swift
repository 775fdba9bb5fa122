import HutchModel
import HutchTensor

/// Transpose of data: y = x with its axes permuted (the loader checks that examples stay apart:
/// the batch may move, no axis mixes it). Linear; the transpose permutes back.
struct TransposeRule: LinearInDataRule {
    let perm: [Int]

    @_specialize(where S == Float)
    func forward<S: TensorScalar>(_ c: OpCall<S>, _ tape: inout Tape<S>) throws(ExecutionError) -> Stacked<S> {
        let x = c.x[0]!
        guard perm.count == x.shape.count, Set(perm) == Set(0..<perm.count) else {
            throw ExecutionError.node(c.node, "perm \(perm) does not permute the axes of shape \(x.shape)")
        }
        return permuted(x, perm)
    }

    @_specialize(where S == Float)
    func apply<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ v: Stacked<S>, _ tape: Tape<S>) throws(ExecutionError) -> Stacked<S> {
        permuted(v, perm)
    }

    @_specialize(where S == Float)
    func applyTranspose<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ v: Stacked<S>, _ tape: Tape<S>) throws(ExecutionError) -> Stacked<S> {
        var inverse = perm
        for (to, from) in perm.enumerated() { inverse[from] = to }
        return permuted(v, inverse)
    }

    /// Every block of `v` with its axes in the order `order` (output axis a is input axis order[a]).
    private func permuted<S: TensorScalar>(_ v: Stacked<S>, _ order: [Int]) -> Stacked<S> {
        let shape = order.map { v.shape[$0] }
        let out = Stacked<S>(shape: shape, blocks: v.blocks, zeroed: false)
        let inStrides = Odometer.strides(of: v.shape)
        let strides = order.map { inStrides[$0] }   // input stride of each output axis
        let rank = shape.count, n = v.blockCount
        guard n > 0 else { return out }
        // the last output axis is the inner loop; an odometer walks the others
        let last = rank - 1, innerCount = shape[last], innerStride = strides[last]
        for j in 0..<v.blocks {
            let src = v.block(j), dst = out.block(j)
            var rows = StridedOffsets(shape: Array(shape[..<last]), strides: Array(strides[..<last]))
            var written = 0
            while written < n {
                let offset = rows.offset
                for i in 0..<innerCount { dst[written + i] = src[offset + i * innerStride] }
                written += innerCount
                rows.advance()
            }
        }
        return out
    }
}
