import HutchModel
import HutchTensor

/// The four rules of every op, dispatched on `Op`:
///   forward     y = f(x)
///   tangent     y' = J x'                        (k stacked tangents)
///   transpose   x* = J^T y*                      (m stacked adjoints)
///   curvature   the second-order part of the adjoint's tangent, (dJ)^T y* for the primal
///               adjoint y*: cross terms of bilinear ops and f'' of Sigmoid/Tanh.
/// `need[i]` says which inputs want an adjoint.
extension Executor {
    func forward(_ i: Int, _ node: Node, _ x: [Stacked<Scalar>?], _ tape: inout Tape<Scalar>) throws(ExecutionError) -> Stacked<Scalar> {
        switch node.op {
        case .conv(let a): return try convForward(i, node, a, x, &tape)
        case .gemm(let a): return try gemmForward(node, a, x)
        case .matMul: return try matMulForward(node, x)
        case .add, .mul: return try binaryForward(node, x)
        case .relu, .clip, .leakyRelu, .sigmoid, .tanh: return unaryForward(node, x[0]!)
        case .batchNormalization(let eps): return try batchNormForward(i, node, eps, x, &tape)
        case .maxPool(let a): return try maxPoolForward(i, node, a, x[0]!, &tape)
        case .averagePool(let a): return try averagePoolForward(i, node, a, x[0]!, &tape)
        case .globalAveragePool: return try globalAveragePoolForward(node, x[0]!)
        case .flatten, .reshape, .identity: return try reshapeForward(node, x[0]!)
        case .concat(let axis): return try concatForward(node, axis, x.map { $0! })
        }
    }

    func tangent(_ i: Int, _ node: Node, _ x: [Stacked<Scalar>?], _ y: Stacked<Scalar>, _ t: [Stacked<Scalar>?],
                 k: Int, _ tape: Tape<Scalar>) throws(ExecutionError) -> Stacked<Scalar>? {
        switch node.op {
        case .conv: return convTangent(tape.geometry[i]!, x, y, t, k)
        case .gemm(let a): return try gemmTangent(node, a, x, y, t, k)
        case .matMul: return try matMulTangent(node, x, y, t, k)
        case .add, .mul: return try binaryTangent(node, x, y, t, k)
        case .relu, .clip, .leakyRelu, .sigmoid, .tanh:
            guard let t0 = t[0] else { return nil }
            return unaryTranspose(node, x[0]!, y, t0)
        case .batchNormalization:
            try rejectParameterDerivatives(node, t.dropFirst().contains { $0 != nil })
            guard let t0 = t[0] else { return nil }
            return batchNormApply(tape.affine[i]!, t0)
        case .maxPool:
            guard let t0 = t[0] else { return nil }
            return maxPoolGather(tape.geometry[i]!, tape.argmax[i]!, t0, y.shape)
        case .averagePool(let a):
            guard let t0 = t[0] else { return nil }
            return averagePoolApply(tape.geometry[i]!, a, t0, y.shape)
        case .globalAveragePool:
            guard let t0 = t[0] else { return nil }
            return globalAveragePoolApply(t0, y.shape)
        case .flatten, .reshape, .identity:
            return t[0].map { Stacked(reshaping: $0, to: y.shape) }
        case .concat(let axis): return concatTangent(axis, x, y, t, k)
        }
    }

    func transpose(_ i: Int, _ node: Node, _ x: [Stacked<Scalar>?], _ y: Stacked<Scalar>, _ cot: Stacked<Scalar>,
                   need: [Bool], _ tape: Tape<Scalar>) throws(ExecutionError) -> [Stacked<Scalar>?] {
        switch node.op {
        case .conv: return convTranspose(tape.geometry[i]!, x, cot, need)
        case .gemm(let a): return try gemmTranspose(node, a, x, cot, need)
        case .matMul: return try matMulTranspose(node, x, cot, need)
        case .add, .mul: return try binaryTranspose(node, x, y, cot, need)
        case .relu, .clip, .leakyRelu, .sigmoid, .tanh:
            return [need[0] ? unaryTranspose(node, x[0]!, y, cot) : nil]
        case .batchNormalization:
            try rejectParameterDerivatives(node, need.dropFirst().contains(true))
            return [need[0] ? batchNormApply(tape.affine[i]!, cot) : nil, nil, nil, nil, nil]
        case .maxPool:
            return [need[0] ? maxPoolScatter(tape.geometry[i]!, tape.argmax[i]!, cot, x[0]!.shape) : nil]
        case .averagePool(let a):
            return [need[0] ? averagePoolTranspose(tape.geometry[i]!, a, cot, x[0]!.shape) : nil]
        case .globalAveragePool:
            return [need[0] ? globalAveragePoolTranspose(cot, x[0]!.shape) : nil]
        case .flatten, .reshape, .identity:
            return [need[0] ? Stacked(reshaping: cot, to: x[0]!.shape) : nil]
        case .concat(let axis): return concatTranspose(axis, x, y, cot, need)
        }
    }

    /// Adds the curvature terms to `existing` (fresh, unshared buffers from `transpose`).
    func curvature(_ i: Int, _ node: Node, _ x: [Stacked<Scalar>?], _ y: Stacked<Scalar>, _ t: [Stacked<Scalar>?],
                   _ cot: Stacked<Scalar>, need: [Bool], k: Int, _ tape: Tape<Scalar>,
                   adding existing: [Stacked<Scalar>?]) throws(ExecutionError) -> [Stacked<Scalar>?] {
        let own: [Stacked<Scalar>?]
        switch node.op {
        case .conv: return convCurvature(tape.geometry[i]!, x, t, cot, need, adding: existing)
        case .gemm(let a): own = try gemmCurvature(node, a, x, t, cot, need, k)
        case .matMul: own = try matMulCurvature(node, x, t, cot, need, k)
        case .mul: own = try mulCurvature(node, x, y, t, cot, need, k)
        case .sigmoid, .tanh:
            guard need[0], let t0 = t[0] else { return existing }
            own = [unaryCurvature(node, y, t0, cot)]
        default: return existing
        }
        return zip(existing, own).map { Stacked.sum($0, $1) }
    }

    /// Wraps a kernel shape error with the node's name.
    func shaped<T>(_ node: Node, _ body: () throws(ShapeError) -> T) throws(ExecutionError) -> T {
        do { return try body() } catch { throw ExecutionError.node(node, error.message) }
    }

    func rejectParameterDerivatives(_ node: Node, _ asked: Bool) throws(ExecutionError) {
        if asked {
            throw ExecutionError.node(node, "derivatives with respect to batch-normalization parameters are not supported; fold BatchNorm into the convolution or leave its parameters out")
        }
    }
}
