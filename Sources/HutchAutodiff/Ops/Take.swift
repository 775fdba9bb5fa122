import HutchModel
import HutchTensor

/// The entries `indices` of one non-batch axis, in order (ONNX Slice, Split, and Gather with
/// constant indices). Linear; the transpose scatters the adjoint back, adding where an index
/// repeats.
struct TakeRule: LinearInDataRule {
    let axis: Int
    let indices: [Int]

    @_specialize(where S == Float)
    func forward<S: TensorScalar>(_ c: OpCall<S>, _ tape: inout Tape<S>) throws(ExecutionError) -> Stacked<S> {
        let x = c.x[0]!
        let lines = try AxisLines(c.node, x.shape, axis)
        guard indices.allSatisfy({ $0 >= 0 && $0 < lines.length }) else {
            throw ExecutionError.node(c.node, "an index is outside axis \(axis) of shape \(x.shape)")
        }
        return take(x, lines)
    }

    @_specialize(where S == Float)
    func apply<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ v: Stacked<S>, _ tape: Tape<S>) throws(ExecutionError) -> Stacked<S> {
        take(v, try AxisLines(c.node, c.x[0]!.shape, axis))
    }

    @_specialize(where S == Float)
    func applyTranspose<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ v: Stacked<S>, _ tape: Tape<S>) throws(ExecutionError) -> Stacked<S> {
        let shape = c.x[0]!.shape
        let lines = try AxisLines(c.node, shape, axis)
        let out = Stacked<S>(shape: shape, blocks: v.blocks)
        for j in 0..<v.blocks {
            let src = v.block(j), dst = out.block(j)
            for o in 0..<lines.outer {
                for (i, index) in indices.enumerated() {
                    let from = (o * indices.count + i) * lines.inner, to = (o * lines.length + index) * lines.inner
                    for e in 0..<lines.inner { dst[to + e] += src[from + e] }
                }
            }
        }
        return out
    }

    private func take<S: TensorScalar>(_ v: Stacked<S>, _ lines: AxisLines) -> Stacked<S> {
        var shape = v.shape
        shape[axis] = indices.count
        let out = Stacked<S>(shape: shape, blocks: v.blocks, zeroed: false)
        for j in 0..<v.blocks {
            let src = v.block(j), dst = out.block(j)
            for o in 0..<lines.outer {
                for (i, index) in indices.enumerated() {
                    (dst + (o * indices.count + i) * lines.inner).update(from: src + (o * lines.length + index) * lines.inner, count: lines.inner)
                }
            }
        }
        return out
    }
}
