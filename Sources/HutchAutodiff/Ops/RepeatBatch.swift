import HutchModel
import HutchTensor

/// A constant example c of shape [1, ...] repeated for every example of the batch (a class
/// token). Linear in c; the transpose sums over the batch.
struct RepeatBatchRule: LinearInDataRule {
    @_specialize(where S == Float)
    func forward<S: TensorScalar>(_ c: OpCall<S>, _ tape: inout Tape<S>) throws(ExecutionError) -> Stacked<S> {
        let x = c.x[0]!
        guard x.shape.first == 1 else { throw ExecutionError.node(c.node, "the repeated constant has shape \(x.shape), not [1, ...]") }
        return repeated(x, batch: tape.batch)
    }

    @_specialize(where S == Float)
    func apply<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ v: Stacked<S>, _ tape: Tape<S>) throws(ExecutionError) -> Stacked<S> {
        repeated(v, batch: tape.batch)
    }

    @_specialize(where S == Float)
    func applyTranspose<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ v: Stacked<S>, _ tape: Tape<S>) throws(ExecutionError) -> Stacked<S> {
        let shape = c.x[0]!.shape, n = shape.reduce(1, *)
        let out = Stacked<S>(shape: shape, blocks: v.blocks)
        for j in 0..<v.blocks {
            for example in 0..<tape.batch {
                for i in 0..<n { out.block(j)[i] += v.block(j)[example * n + i] }
            }
        }
        return out
    }

    private func repeated<S: TensorScalar>(_ v: Stacked<S>, batch: Int) -> Stacked<S> {
        let n = v.blockCount
        let out = Stacked<S>(shape: [batch] + v.shape.dropFirst(), blocks: v.blocks, zeroed: false)
        for j in 0..<v.blocks {
            for example in 0..<batch { (out.block(j) + example * n).update(from: v.block(j), count: n) }
        }
        return out
    }
}
