import HutchModel
import HutchTensor

/// Add and Mul with NumPy broadcasting, and the pointwise activations.
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

    // MARK: Activations

    func unaryOp(_ node: Node) -> UnaryOp {
        switch node.op {
        case .clip(let lo, let hi): .clip(min: Double(lo), max: Double(hi))
        case .leakyRelu(let alpha): .leakyRelu(alpha: Double(alpha))
        case .sigmoid: .sigmoid
        case .tanh: .tanh
        default: .relu
        }
    }

    func unaryForward(_ node: Node, _ x: Stacked<Scalar>) -> Stacked<Scalar> {
        let y = Stacked<Scalar>(shape: x.shape, zeroed: false)
        Kernels.unaryForward(unaryOp(node), x: x.pointer, y: y.pointer, count: x.count)
        return y
    }

    /// f'(x) (.) g for stacked g: the tangent and the transpose are the same diagonal map.
    func unaryTranspose(_ node: Node, _ x: Stacked<Scalar>, _ y: Stacked<Scalar>, _ g: Stacked<Scalar>) -> Stacked<Scalar> {
        let out = Stacked<Scalar>(shape: x.shape, blocks: g.blocks, zeroed: false)
        Kernels.unaryDerivativeTimes(unaryOp(node), x: x.pointer, y: y.pointer, g: g.pointer, out: out.pointer,
                                     count: x.blockCount, blocks: g.blocks, accumulate: false)
        return out
    }

    func unaryCurvature(_ node: Node, _ y: Stacked<Scalar>, _ t: Stacked<Scalar>, _ cot: Stacked<Scalar>) -> Stacked<Scalar> {
        let out = Stacked<Scalar>(shape: y.shape, blocks: t.blocks)
        Kernels.unarySecondDerivativeTimes(unaryOp(node), y: y.pointer, t: t.pointer, g: cot.pointer, out: out.pointer,
                                           count: y.blockCount, blocks: t.blocks)
        return out
    }

    // MARK: BatchNormalization (inference): y = x * scale + shift per channel

    func batchNormForward(_ i: Int, _ node: Node, _ eps: Float, _ x: [Stacked<Scalar>?],
                          _ tape: inout Tape<Scalar>) throws(ExecutionError) -> Stacked<Scalar> {
        let input = x[0]!
        guard input.shape.count >= 2 else { throw ExecutionError.node(node, "input shape \(input.shape) has no channel axis") }
        let c = input.shape[1]
        let params = x.dropFirst().map { $0! }
        guard params.allSatisfy({ $0.shape == [c] }) else {
            throw ExecutionError.node(node, "scale, bias, mean and variance must have shape [\(c)], got \(params.map(\.shape))")
        }
        var scale = [Scalar](repeating: 0, count: c), shift = [Scalar](repeating: 0, count: c)
        for ch in 0..<c {
            let variance = params[3].pointer[ch] + Scalar(eps)
            guard variance > 0 else { throw ExecutionError.node(node, "variance + epsilon is not positive in channel \(ch)") }
            scale[ch] = params[0].pointer[ch] / variance.squareRoot()
            shift[ch] = params[1].pointer[ch] - params[2].pointer[ch] * scale[ch]
        }
        tape.affine[i] = (scale, shift)
        let y = Stacked<Scalar>(shape: input.shape, zeroed: false)
        scale.withUnsafeBufferPointer { s in
            shift.withUnsafeBufferPointer { b in
                Kernels.channelAffine(x: input.pointer, scale: s.baseAddress, shift: b.baseAddress, out: y.pointer,
                                      batch: input.shape[0], channels: c, spatial: input.shape.dropFirst(2).reduce(1, *),
                                      accumulate: false)
            }
        }
        return y
    }

    func batchNormApply(_ affine: (scale: [Scalar], shift: [Scalar]), _ g: Stacked<Scalar>) -> Stacked<Scalar> {
        let out = Stacked<Scalar>(shape: g.shape, blocks: g.blocks, zeroed: false)
        affine.scale.withUnsafeBufferPointer { s in
            Kernels.channelAffine(x: g.pointer, scale: s.baseAddress, shift: nil, out: out.pointer,
                                  batch: g.blocks * g.shape[0], channels: g.shape[1],
                                  spatial: g.shape.dropFirst(2).reduce(1, *), accumulate: false)
        }
        return out
    }
}
