import HutchModel
import HutchTensor

/// Add and Mul with NumPy broadcasting (the kernels read which from the node). Add is linear;
/// Mul is bilinear, with the cross terms as its curvature (SiLU's x * sigmoid(x), a squeeze-excite
/// gate, attention scaling).
struct AddMulRule: OpRule {
    let multiplies: Bool

    func accepts(_ inputs: [ValueID?]) -> Bool { inputs.count == 2 && inputs[0] != nil && inputs[1] != nil }

    @_specialize(where S == Float)
    func forward<S: TensorScalar>(_ c: OpCall<S>, _ tape: inout Tape<S>) throws(ExecutionError) -> Stacked<S> {
        try c.e.binaryForward(c.node, c.x)
    }

    @_specialize(where S == Float)
    func tangent<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ t: [Stacked<S>?], k: Int, _ tape: Tape<S>) throws(ExecutionError) -> Stacked<S>? {
        try c.e.binaryTangent(c.node, c.x, y, t, k)
    }

    @_specialize(where S == Float)
    func transpose<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ cot: Stacked<S>, need: [Bool], _ tape: Tape<S>) throws(ExecutionError) -> [Stacked<S>?] {
        try c.e.binaryTranspose(c.node, c.x, y, cot, need)
    }

    var hasCurvature: Bool { multiplies }
    /// Add's adjoints are y* reduced to each operand's shape.
    func reverseReads(need: [Bool]) -> TapeReads { multiplies ? .otherOperand(need) : .shapesOnly(need.count) }

    @_specialize(where S == Float)
    func curvature<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ t: [Stacked<S>?], _ cot: Stacked<S>, need: [Bool], k: Int,
                                    _ tape: Tape<S>, adding existing: [Stacked<S>?]) throws(ExecutionError) -> [Stacked<S>?] {
        guard multiplies else { return existing }
        return existing.summed(with: try c.e.mulCurvature(c.node, c.x, y, t, cot, need, k))
    }
}

extension Executor {
    func binaryForward(_ node: Node, _ x: [Stacked<Scalar>?]) throws(ExecutionError) -> Stacked<Scalar> {
        let (a, b) = (x[0]!, x[1]!)
        let plan = try shaped(node) { () throws(ShapeError) in try BroadcastPlan(a.shape, b.shape) }
        let y = Stacked<Scalar>(shape: plan.outShape, zeroed: false)
        Kernels.broadcastBinary(plan, node.op == .add ? .add : .mul, a: a.pointer, b: b.pointer, out: y.pointer,
                                accumulate: false)
        return y
    }

    func binaryTangent(_ node: Node, _ x: [Stacked<Scalar>?], _ y: Stacked<Scalar>, _ t: [Stacked<Scalar>?],
                       _ k: Int) throws(ExecutionError) -> Stacked<Scalar>? {
        guard t[0] != nil || t[1] != nil else { return nil }
        let (a, b) = (x[0]!, x[1]!)
        var out = Stacked<Scalar>(shape: y.shape, blocks: k)
        if node.op == .add {
            for (operand, tangent) in [(a, t[0]), (b, t[1])] {
                guard let tangent else { continue }
                if operand.shape == y.shape { out.add(tangent); continue }
                let plan = try shaped(node) { () throws(ShapeError) in try BroadcastPlan(operand.shape, y.shape) }
                for j in 0..<k { Kernels.broadcastAccumulate(plan, a: tangent.block(j), out: out.block(j)) }
            }
        } else {
            let plan = try shaped(node) { () throws(ShapeError) in try BroadcastPlan(a.shape, b.shape) }
            for j in 0..<k {
                if let ta = t[0] { Kernels.broadcastBinary(plan, .mul, a: ta.block(j), b: b.pointer, out: out.block(j), accumulate: true) }
                if let tb = t[1] { Kernels.broadcastBinary(plan, .mul, a: a.pointer, b: tb.block(j), out: out.block(j), accumulate: true) }
            }
        }
        return out
    }

    func binaryTranspose(_ node: Node, _ x: [Stacked<Scalar>?], _ y: Stacked<Scalar>, _ cot: Stacked<Scalar>,
                         _ need: [Bool]) throws(ExecutionError) -> [Stacked<Scalar>?] {
        var result: [Stacked<Scalar>?] = [nil, nil]
        for i in 0..<2 where need[i] {
            let (mine, other) = (x[i]!, x[1 - i]!)
            if node.op == .add && mine.shape == y.shape {
                result[i] = cot   // shared storage; accumulation copies when needed
                continue
            }
            let plan = try shaped(node) { () throws(ShapeError) in try BroadcastPlan(mine.shape, node.op == .add ? y.shape : other.shape) }
            let d = Stacked<Scalar>(shape: mine.shape, blocks: cot.blocks)
            for j in 0..<cot.blocks {
                Kernels.broadcastReduce(plan, full: cot.block(j), times: node.op == .add ? nil : UnsafePointer(other.pointer),
                                        into: d.block(j))
            }
            result[i] = d
        }
        return result
    }

    /// Mul's cross terms: a* gets y* (.) b', b* gets y* (.) a', reduced to each operand's shape.
    func mulCurvature(_ node: Node, _ x: [Stacked<Scalar>?], _ y: Stacked<Scalar>, _ t: [Stacked<Scalar>?],
                      _ cot: Stacked<Scalar>, _ need: [Bool], _ k: Int) throws(ExecutionError) -> [Stacked<Scalar>?] {
        var result: [Stacked<Scalar>?] = [nil, nil]
        for i in 0..<2 where need[i] {
            guard let tOther = t[1 - i] else { continue }
            let (mine, other) = (x[i]!, x[1 - i]!)
            let plan = try shaped(node) { () throws(ShapeError) in try BroadcastPlan(mine.shape, other.shape) }
            let d = Stacked<Scalar>(shape: mine.shape, blocks: k)
            for j in 0..<k {
                Kernels.broadcastReduce(plan, full: cot.pointer, times: tOther.block(j), into: d.block(j))
            }
            result[i] = d
        }
        return result
    }
}
