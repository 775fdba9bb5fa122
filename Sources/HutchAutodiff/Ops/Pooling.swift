import HutchModel
import HutchTensor

/// MaxPool (argmax kept from the forward pass), AveragePool, GlobalAveragePool. All linear in
/// their input once the argmax is fixed; stacked blocks are just more planes.
struct PoolRule: LinearInDataRule {
    enum Kind: Sendable { case max(PoolAttributes), average(PoolAttributes), globalAverage }
    let kind: Kind

    @_specialize(where S == Float)
    func forward<S: TensorScalar>(_ c: OpCall<S>, _ tape: inout Tape<S>) throws(ExecutionError) -> Stacked<S> {
        switch kind {
        case .max(let a): try c.e.maxPoolForward(c.index, c.node, a, c.x[0]!, &tape)
        case .average(let a): try c.e.averagePoolForward(c.index, c.node, a, c.x[0]!, &tape)
        case .globalAverage: try c.e.globalAveragePoolForward(c.node, c.x[0]!)
        }
    }

    @_specialize(where S == Float)
    func apply<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ v: Stacked<S>, _ tape: Tape<S>) throws(ExecutionError) -> Stacked<S> {
        switch kind {
        case .max: c.e.maxPoolGather(tape.geometry[c.index]!, tape.argmax[c.index]!, v, y.shape)
        case .average(let a): c.e.averagePoolApply(tape.geometry[c.index]!, a, v, y.shape)
        case .globalAverage: c.e.globalAveragePoolApply(v, y.shape)
        }
    }

    @_specialize(where S == Float)
    func applyTranspose<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ v: Stacked<S>, _ tape: Tape<S>) throws(ExecutionError) -> Stacked<S> {
        switch kind {
        case .max: c.e.maxPoolScatter(tape.geometry[c.index]!, tape.argmax[c.index]!, v, c.x[0]!.shape)
        case .average(let a): c.e.averagePoolTranspose(tape.geometry[c.index]!, a, v, c.x[0]!.shape)
        case .globalAverage: c.e.globalAveragePoolTranspose(v, c.x[0]!.shape)
        }
    }
}

extension Executor {
    func poolGeometry(_ node: Node, _ a: PoolAttributes, _ x: Stacked<Scalar>) throws(ExecutionError) -> ConvGeometry {
        try shaped(node) { () throws(ShapeError) in
            try ConvGeometry(poolInput: x.shape, kernel: a.kernelShape, strides: a.strides, pads: a.pads,
                             dilations: a.dilations, ceilMode: a.ceilMode)
        }
    }

    func maxPoolForward(_ i: Int, _ node: Node, _ a: PoolAttributes, _ x: Stacked<Scalar>,
                        _ tape: inout Tape<Scalar>) throws(ExecutionError) -> Stacked<Scalar> {
        let g = try poolGeometry(node, a, x)
        let y = Stacked<Scalar>(shape: g.outputShape, zeroed: false)
        var argmax = [Int32](repeating: -1, count: g.outputCount)
        argmax.withUnsafeMutableBufferPointer { Kernels.maxPoolForward(g, x: x.pointer, y: y.pointer, argmax: $0.baseAddress!) }
        tape.geometry[i] = g
        tape.argmax[i] = argmax
        return y
    }

    func maxPoolGather(_ g: ConvGeometry, _ argmax: [Int32], _ t: Stacked<Scalar>, _ outShape: [Int]) -> Stacked<Scalar> {
        let out = Stacked<Scalar>(shape: outShape, blocks: t.blocks, zeroed: false)
        argmax.withUnsafeBufferPointer {
            Kernels.maxPoolGather(g, planes: t.blocks * g.batch * g.inChannels, argmax: $0.baseAddress!,
                                  src: t.pointer, dst: out.pointer)
        }
        return out
    }

    func maxPoolScatter(_ g: ConvGeometry, _ argmax: [Int32], _ cot: Stacked<Scalar>, _ inShape: [Int]) -> Stacked<Scalar> {
        let out = Stacked<Scalar>(shape: inShape, blocks: cot.blocks)
        argmax.withUnsafeBufferPointer {
            Kernels.maxPoolScatter(g, planes: cot.blocks * g.batch * g.inChannels, argmax: $0.baseAddress!,
                                   dy: cot.pointer, dx: out.pointer)
        }
        return out
    }

    func averagePoolForward(_ i: Int, _ node: Node, _ a: PoolAttributes, _ x: Stacked<Scalar>,
                            _ tape: inout Tape<Scalar>) throws(ExecutionError) -> Stacked<Scalar> {
        let g = try poolGeometry(node, a, x)
        tape.geometry[i] = g
        return averagePoolApply(g, a, x, g.outputShape)
    }

    func averagePoolApply(_ g: ConvGeometry, _ a: PoolAttributes, _ x: Stacked<Scalar>, _ outShape: [Int]) -> Stacked<Scalar> {
        let y = Stacked<Scalar>(shape: outShape, blocks: x.blocks, zeroed: false)
        Kernels.averagePoolForward(g, planes: x.blocks * g.batch * g.inChannels, countIncludePad: a.countIncludePad,
                                   x: x.pointer, y: y.pointer)
        return y
    }

    func averagePoolTranspose(_ g: ConvGeometry, _ a: PoolAttributes, _ cot: Stacked<Scalar>, _ inShape: [Int]) -> Stacked<Scalar> {
        let dx = Stacked<Scalar>(shape: inShape, blocks: cot.blocks)
        Kernels.averagePoolBackward(g, planes: cot.blocks * g.batch * g.inChannels, countIncludePad: a.countIncludePad,
                                    dy: cot.pointer, dx: dx.pointer)
        return dx
    }

    func globalAveragePoolForward(_ node: Node, _ x: Stacked<Scalar>) throws(ExecutionError) -> Stacked<Scalar> {
        guard x.shape.count >= 3 else { throw ExecutionError.node(node, "input shape \(x.shape) has no spatial axes") }
        return globalAveragePoolApply(x, Array(x.shape.prefix(2)) + Array(repeating: 1, count: x.shape.count - 2))
    }

    func globalAveragePoolApply(_ x: Stacked<Scalar>, _ outShape: [Int]) -> Stacked<Scalar> {
        let spatial = x.shape.dropFirst(2).reduce(1, *)
        let planes = x.count / max(spatial, 1)
        let y = Stacked<Scalar>(shape: outShape, blocks: x.blocks, zeroed: false)
        let scale = 1 / Scalar(max(spatial, 1))
        for p in 0..<planes {
            var s: Scalar = 0
            let xp = x.pointer + p * spatial
            for i in 0..<spatial { s += xp[i] }
            y.pointer[p] = s * scale
        }
        return y
    }

    func globalAveragePoolTranspose(_ cot: Stacked<Scalar>, _ inShape: [Int]) -> Stacked<Scalar> {
        let spatial = inShape.dropFirst(2).reduce(1, *)
        let dx = Stacked<Scalar>(shape: inShape, blocks: cot.blocks, zeroed: false)
        let scale = 1 / Scalar(max(spatial, 1))
        for p in 0..<cot.count {
            (dx.pointer + p * spatial).update(repeating: cot.pointer[p] * scale, count: spatial)
        }
        return dx
    }
}
