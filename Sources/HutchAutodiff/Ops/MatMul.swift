import HutchModel
import HutchTensor

/// MatMul with NumPy semantics (batched, broadcasting). Bilinear in (A, B): its curvature terms
/// are the transposes with the other operand replaced by its tangent, which is what attention's
/// product of two activations needs.
struct MatMulRule: OpRule {
    func accepts(_ inputs: [ValueID?]) -> Bool { inputs.count == 2 && inputs[0] != nil && inputs[1] != nil }

    @_specialize(where S == Float)
    func forward<S: TensorScalar>(_ c: OpCall<S>, _ tape: inout Tape<S>) throws(ExecutionError) -> Stacked<S> {
        try c.e.matMulForward(c.node, c.x)
    }

    @_specialize(where S == Float)
    func tangent<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ t: [Stacked<S>?], k: Int, _ tape: Tape<S>) throws(ExecutionError) -> Stacked<S>? {
        try c.e.matMulTangent(c.node, c.x, y, t, k)
    }

    @_specialize(where S == Float)
    func transpose<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ cot: Stacked<S>, need: [Bool], _ tape: Tape<S>) throws(ExecutionError) -> [Stacked<S>?] {
        try c.e.matMulTranspose(c.node, c.x, cot, need)
    }

    var hasCurvature: Bool { true }
    func reverseReads(need: [Bool]) -> TapeReads { .otherOperand(need) }

    @_specialize(where S == Float)
    func curvature<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ t: [Stacked<S>?], _ cot: Stacked<S>, need: [Bool], k: Int,
                                    _ tape: Tape<S>, adding existing: [Stacked<S>?]) throws(ExecutionError) -> [Stacked<S>?] {
        existing.summed(with: try c.e.matMulCurvature(c.node, c.x, t, cot, need, k))
    }
}

extension Executor {
    func matMulPlan(_ node: Node, _ x: [Stacked<Scalar>?]) throws(ExecutionError) -> MatMulPlan {
        try shaped(node) { () throws(ShapeError) in try MatMulPlan(x[0]!.shape, x[1]!.shape) }
    }

    func matMulForward(_ node: Node, _ x: [Stacked<Scalar>?]) throws(ExecutionError) -> Stacked<Scalar> {
        let p = try matMulPlan(node, x)
        let y = Stacked<Scalar>(shape: p.outShape, zeroed: false)
        Kernels.matMul(p, a: x[0]!.pointer, b: x[1]!.pointer, out: y.pointer, accumulate: false)
        return y
    }

    func matMulTangent(_ node: Node, _ x: [Stacked<Scalar>?], _ y: Stacked<Scalar>, _ t: [Stacked<Scalar>?],
                       _ k: Int) throws(ExecutionError) -> Stacked<Scalar>? {
        guard t[0] != nil || t[1] != nil else { return nil }
        let p = try matMulPlan(node, x)
        let out = Stacked<Scalar>(shape: y.shape, blocks: k)
        for j in 0..<k {
            if let ta = t[0] { Kernels.matMul(p, a: ta.block(j), b: x[1]!.pointer, out: out.block(j), accumulate: true) }
            if let tb = t[1] { Kernels.matMul(p, a: x[0]!.pointer, b: tb.block(j), out: out.block(j), accumulate: true) }
        }
        return out
    }

    func matMulTranspose(_ node: Node, _ x: [Stacked<Scalar>?], _ cot: Stacked<Scalar>,
                         _ need: [Bool]) throws(ExecutionError) -> [Stacked<Scalar>?] {
        let p = try matMulPlan(node, x)
        let m = cot.blocks
        var result: [Stacked<Scalar>?] = [nil, nil]
        if need[0] {
            let da = Stacked<Scalar>(shape: x[0]!.shape, blocks: m)
            for j in 0..<m { Kernels.matMulBackwardA(p, g: cot.block(j), b: x[1]!.pointer, da: da.block(j)) }
            result[0] = da
        }
        if need[1] {
            let db = Stacked<Scalar>(shape: x[1]!.shape, blocks: m)
            for j in 0..<m { Kernels.matMulBackwardB(p, a: x[0]!.pointer, g: cot.block(j), db: db.block(j)) }
            result[1] = db
        }
        return result
    }

    func matMulCurvature(_ node: Node, _ x: [Stacked<Scalar>?], _ t: [Stacked<Scalar>?], _ cot: Stacked<Scalar>,
                         _ need: [Bool], _ k: Int) throws(ExecutionError) -> [Stacked<Scalar>?] {
        let p = try matMulPlan(node, x)
        var result: [Stacked<Scalar>?] = [nil, nil]
        if need[0], let tb = t[1] {
            let da = Stacked<Scalar>(shape: x[0]!.shape, blocks: k)
            for j in 0..<k { Kernels.matMulBackwardA(p, g: cot.pointer, b: tb.block(j), da: da.block(j)) }
            result[0] = da
        }
        if need[1], let ta = t[0] {
            let db = Stacked<Scalar>(shape: x[1]!.shape, blocks: k)
            for j in 0..<k { Kernels.matMulBackwardB(p, a: ta.block(j), g: cot.pointer, db: db.block(j)) }
            result[1] = db
        }
        return result
    }
}
