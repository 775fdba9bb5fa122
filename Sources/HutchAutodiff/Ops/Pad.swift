import HutchModel
import HutchTensor

/// Pad with zeros (ONNX Pad, mode constant, value 0): `pads` is [begin..., end...] per axis, 0 on
/// the batch's. Linear; the transpose crops the padding away.
struct PadRule: LinearInDataRule {
    let pads: [Int]

    @_specialize(where S == Float)
    func forward<S: TensorScalar>(_ c: OpCall<S>, _ tape: inout Tape<S>) throws(ExecutionError) -> Stacked<S> {
        let x = c.x[0]!
        guard pads.count == 2 * x.shape.count else {
            throw ExecutionError.node(c.node, "pads \(pads) do not fit shape \(x.shape)")
        }
        return padded(x)
    }

    @_specialize(where S == Float)
    func apply<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ v: Stacked<S>, _ tape: Tape<S>) throws(ExecutionError) -> Stacked<S> {
        padded(v)
    }

    @_specialize(where S == Float)
    func applyTranspose<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ v: Stacked<S>, _ tape: Tape<S>) throws(ExecutionError) -> Stacked<S> {
        let inner = c.x[0]!.shape
        let out = Stacked<S>(shape: inner, blocks: v.blocks, zeroed: false)
        for j in 0..<v.blocks { copyRows(inner, outer: v.shape, small: out.block(j), large: v.block(j), padding: false) }
        return out
    }

    private func padded<S: TensorScalar>(_ v: Stacked<S>) -> Stacked<S> {
        let rank = v.shape.count
        let shape = (0..<rank).map { v.shape[$0] + pads[$0] + pads[$0 + rank] }
        let out = Stacked<S>(shape: shape, blocks: v.blocks)
        for j in 0..<v.blocks { copyRows(v.shape, outer: shape, small: v.block(j), large: out.block(j), padding: true) }
        return out
    }

    /// Copies each innermost row of the `inner`-shaped tensor to (padding) or from its place in
    /// the `outer`-shaped one, offset by the begin pads.
    private func copyRows<S: TensorScalar>(_ inner: [Int], outer: [Int], small: UnsafeMutablePointer<S>,
                                           large: UnsafeMutablePointer<S>, padding: Bool) {
        let rank = inner.count
        guard rank > 0, inner.allSatisfy({ $0 > 0 }) else { return }
        let strides = Odometer.strides(of: outer), row = inner[rank - 1]
        for (r, index) in Odometer(Array(inner.dropLast())).enumerated() {
            var offset = pads[rank - 1]
            for a in index.indices { offset += (index[a] + pads[a]) * strides[a] }
            if padding { (large + offset).update(from: small + r * row, count: row) }
            else { (small + r * row).update(from: large + offset, count: row) }
        }
    }
}
