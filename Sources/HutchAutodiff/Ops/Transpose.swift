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
        var inStrides = [Int](repeating: 1, count: v.shape.count)
        for a in stride(from: v.shape.count - 2, through: 0, by: -1) { inStrides[a] = inStrides[a + 1] * v.shape[a + 1] }
        let strides = order.map { inStrides[$0] }   // input stride of each output axis
        let rank = shape.count, n = v.blockCount
        guard n > 0 else { return out }
        // the last output axis is the inner loop; an odometer walks the others
        let last = rank - 1, innerCount = shape[last], innerStride = strides[last]
        for j in 0..<v.blocks {
            let src = v.block(j), dst = out.block(j)
            var index = [Int](repeating: 0, count: rank)
            var offset = 0, written = 0
            while written < n {
                for i in 0..<innerCount { dst[written + i] = src[offset + i * innerStride] }
                written += innerCount
                var a = last - 1
                while a >= 0 {
                    index[a] += 1
                    offset += strides[a]
                    if index[a] < shape[a] { break }
                    offset -= strides[a] * shape[a]
                    index[a] = 0
                    a -= 1
                }
            }
        }
        return out
    }
}
