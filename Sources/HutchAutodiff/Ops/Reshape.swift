import HutchModel
import HutchTensor

/// Flatten, Reshape and Identity: the same scalars under a new shape, so tangents and adjoints
/// are the same storage reshaped.
struct ReshapeRule: LinearInDataRule {
    @_specialize(where S == Float)
    func forward<S: TensorScalar>(_ c: OpCall<S>, _ tape: inout Tape<S>) throws(ExecutionError) -> Stacked<S> {
        try c.e.reshapeForward(c.node, c.x[0]!, batch: tape.batch)
    }

    @_specialize(where S == Float)
    func apply<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ v: Stacked<S>, _ tape: Tape<S>) throws(ExecutionError) -> Stacked<S> {
        Stacked(reshaping: v, to: y.shape)
    }

    @_specialize(where S == Float)
    func applyTranspose<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ v: Stacked<S>, _ tape: Tape<S>) throws(ExecutionError) -> Stacked<S> {
        Stacked(reshaping: v, to: c.x[0]!.shape)
    }
}

extension Executor {
    func reshapeForward(_ node: Node, _ x: Stacked<Scalar>, batch: Int) throws(ExecutionError) -> Stacked<Scalar> {
        let shape: [Int]
        switch node.op {
        case .flatten(let axis):
            let a = axis < 0 ? axis + x.shape.count : axis
            guard a >= 0, a <= x.shape.count else {
                throw ExecutionError.node(node, "axis \(axis) is out of range for input shape \(x.shape)")
            }
            shape = [x.shape.prefix(a).reduce(1, *), x.shape.dropFirst(a).reduce(1, *)]
        case .reshape(let target):
            shape = try resolveReshape(node, target, x.shape, batch: batch)
        default:
            shape = x.shape
        }
        return Stacked(reshaping: x, to: shape)
    }

    /// ONNX Reshape: 0 copies the input dimension, one -1 is inferred; the batch size times k
    /// where the target says so (`Op.batchDimension(times:)`).
    private func resolveReshape(_ node: Node, _ target: [Int], _ input: [Int], batch: Int) throws(ExecutionError) -> [Int] {
        var shape = [Int]()
        var inferred: Int?
        for (i, d) in target.enumerated() {
            switch d {
            case 0:
                guard i < input.count else { throw ExecutionError.node(node, "shape \(target) copies dimension \(i) that input \(input) lacks") }
                shape.append(input[i])
            case let entry where Op.batchFactor(ofDimension: entry) != nil:
                shape.append(batch * (Op.batchFactor(ofDimension: entry) ?? 1))
            case -1:
                guard inferred == nil else { throw ExecutionError.node(node, "shape \(target) has more than one -1") }
                inferred = i; shape.append(1)
            default:
                guard d > 0 else { throw ExecutionError.node(node, "shape \(target) has invalid dimension \(d)") }
                shape.append(d)
            }
        }
        let total = input.reduce(1, *), known = shape.reduce(1, *)
        if let inferred {
            guard known > 0, total % known == 0 else {
                throw ExecutionError.node(node, "cannot reshape \(input) to \(target)")
            }
            shape[inferred] = total / known
        }
        guard shape.reduce(1, *) == total else { throw ExecutionError.node(node, "cannot reshape \(input) to \(target)") }
        return shape
    }
}
