import HutchModel
import HutchTensor

/// The mean over adjacent non-batch axes, keeping them as size 1 or dropping them (LayerNorm's
/// statistics, global pooling of a token axis). Linear; the transpose spreads each adjoint entry
/// evenly over the entries it averaged.
struct ReduceMeanRule: LinearInDataRule {
    let axes: [Int]
    let keepDims: Bool

    /// [outer, length, inner] with the reduced axes in the middle.
    private func layout(_ node: Node, _ shape: [Int]) throws(ExecutionError) -> AxisLines {
        let sorted = axes.sorted()
        guard let first = sorted.first, let last = sorted.last, first >= 0, last < shape.count, last - first + 1 == sorted.count else {
            throw ExecutionError.node(node, "axes \(axes) are not adjacent axes of shape \(shape)")
        }
        let merged = Array(shape[..<first]) + [shape[first...last].reduce(1, *)] + Array(shape[(last + 1)...])
        return try AxisLines(node, merged, first)
    }

    @_specialize(where S == Float)
    func forward<S: TensorScalar>(_ c: OpCall<S>, _ tape: inout Tape<S>) throws(ExecutionError) -> Stacked<S> {
        let x = c.x[0]!
        return reduce(x, try layout(c.node, x.shape))
    }

    @_specialize(where S == Float)
    func apply<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ v: Stacked<S>, _ tape: Tape<S>) throws(ExecutionError) -> Stacked<S> {
        reduce(v, try layout(c.node, c.x[0]!.shape))
    }

    @_specialize(where S == Float)
    func applyTranspose<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ v: Stacked<S>, _ tape: Tape<S>) throws(ExecutionError) -> Stacked<S> {
        let shape = c.x[0]!.shape
        let lines = try layout(c.node, shape)
        let out = Stacked<S>(shape: shape, blocks: v.blocks, zeroed: false)
        let scale = 1 / S(lines.length)
        for j in 0..<v.blocks {
            let src = v.block(j), dst = out.block(j)
            for o in 0..<lines.outer {
                for r in 0..<lines.length {
                    for i in 0..<lines.inner { dst[(o * lines.length + r) * lines.inner + i] = src[o * lines.inner + i] * scale }
                }
            }
        }
        return out
    }

    private func reduce<S: TensorScalar>(_ v: Stacked<S>, _ lines: AxisLines) -> Stacked<S> {
        let shape = v.shape.enumerated().compactMap { axis, size in axes.contains(axis) ? (keepDims ? 1 : nil) : size }
        let out = Stacked<S>(shape: shape, blocks: v.blocks)
        let scale = 1 / S(lines.length)
        for j in 0..<v.blocks {
            let src = v.block(j), dst = out.block(j)
            for o in 0..<lines.outer {
                for r in 0..<lines.length {
                    for i in 0..<lines.inner { dst[o * lines.inner + i] += src[(o * lines.length + r) * lines.inner + i] }
                }
            }
            for o in 0..<out.blockCount { dst[o] *= scale }
        }
        return out
    }
}
