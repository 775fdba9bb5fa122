import HutchModel
import HutchTensor

/// CumSum: running sums along one axis (not the batch's), inclusive or exclusive, from the start
/// or (reverse) from the end. Linear; its transpose runs the other way with the same exclusivity:
/// y_j = sum over i <= j of x_i gives x*_i = sum over j >= i of y*_j.
struct CumulativeSumRule: LinearInDataRule {
    let axis: Int, exclusive: Bool, reverse: Bool

    @_specialize(where S == Float)
    func forward<S: TensorScalar>(_ c: OpCall<S>, _ tape: inout Tape<S>) throws(ExecutionError) -> Stacked<S> {
        let x = c.x[0]!
        guard axis >= 0, axis < x.shape.count else {
            throw ExecutionError.node(c.node, "axis \(axis) is not an axis of shape \(x.shape)")
        }
        return summed(x, reverse: reverse)
    }

    @_specialize(where S == Float)
    func apply<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ v: Stacked<S>, _ tape: Tape<S>) throws(ExecutionError) -> Stacked<S> {
        summed(v, reverse: reverse)
    }

    @_specialize(where S == Float)
    func applyTranspose<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ v: Stacked<S>, _ tape: Tape<S>) throws(ExecutionError) -> Stacked<S> {
        summed(v, reverse: !reverse)
    }

    /// Every block of `v` summed along `axis`, from the end when `reverse`.
    private func summed<S: TensorScalar>(_ v: Stacked<S>, reverse: Bool) -> Stacked<S> {
        let out = Stacked<S>(shape: v.shape, blocks: v.blocks, zeroed: false)
        let n = v.shape[axis]
        let inner = v.shape[(axis + 1)...].reduce(1, *), outer = v.shape[..<axis].reduce(1, *)
        let order = reverse ? Array((0..<n).reversed()) : Array(0..<n)
        for b in 0..<v.blocks {
            let src = v.block(b), dst = out.block(b)
            for o in 0..<outer {
                for i in 0..<inner {
                    let base = o * n * inner + i
                    var total = S.zero
                    for j in order {
                        let at = base + j * inner
                        if exclusive {
                            dst[at] = total
                            total += src[at]
                        } else {
                            total += src[at]
                            dst[at] = total
                        }
                    }
                }
            }
        }
        return out
    }
}
