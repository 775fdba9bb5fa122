import HutchModel
import HutchTensor

/// Conv: y = conv(x, w) + b. Bilinear in (x, w), so its curvature terms are the transposes
/// with the other operand replaced by its tangent. The geometry stays on the tape.
struct ConvRule: OpRule {
    let attributes: ConvAttributes

    func accepts(_ inputs: [ValueID?]) -> Bool { (2...3).contains(inputs.count) && inputs[0] != nil && inputs[1] != nil }

    @_specialize(where S == Float)
    func forward<S: TensorScalar>(_ c: OpCall<S>, _ tape: inout Tape<S>) throws(ExecutionError) -> Stacked<S> {
        try c.e.convForward(c.index, c.node, attributes, c.x, &tape)
    }

    @_specialize(where S == Float)
    func tangent<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ t: [Stacked<S>?], k: Int, _ tape: Tape<S>) throws(ExecutionError) -> Stacked<S>? {
        c.e.convTangent(tape.geometry[c.index]!, c.x, y, t, k)
    }

    @_specialize(where S == Float)
    func transpose<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ cot: Stacked<S>, need: [Bool], _ tape: Tape<S>) throws(ExecutionError) -> [Stacked<S>?] {
        c.e.convTranspose(tape.geometry[c.index]!, c.x, cot, need)
    }

    var hasCurvature: Bool { true }
    func reverseReads(need: [Bool]) -> TapeReads { .otherOperand(need) }

    @_specialize(where S == Float)
    func curvature<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ t: [Stacked<S>?], _ cot: Stacked<S>, need: [Bool], k: Int,
                                    _ tape: Tape<S>, adding existing: [Stacked<S>?]) throws(ExecutionError) -> [Stacked<S>?] {
        c.e.convCurvature(tape.geometry[c.index]!, c.x, t, cot, need, adding: existing)
    }
}

extension Executor {
    func convForward(_ i: Int, _ node: Node, _ a: ConvAttributes, _ x: [Stacked<Scalar>?],
                     _ tape: inout Tape<Scalar>) throws(ExecutionError) -> Stacked<Scalar> {
        let (input, weight) = (x[0]!, x[1]!)
        let g = try shaped(node) { () throws(ShapeError) in
            try ConvGeometry(input: input.shape, weight: weight.shape, strides: a.strides, pads: a.pads,
                             dilations: a.dilations, group: a.group)
        }
        if a.kernelShape.count == weight.shape.count - 2, a.kernelShape != Array(weight.shape.dropFirst(2)) {
            throw ExecutionError.node(node, "kernel_shape \(a.kernelShape) differs from the weight's \(weight.shape)")
        }
        let bias = x.count > 2 ? x[2] : nil
        if let bias, bias.shape != [g.outChannels] {
            throw ExecutionError.node(node, "bias shape \(bias.shape) should be [\(g.outChannels)]")
        }
        tape.geometry[i] = g
        let y = Stacked<Scalar>(shape: g.outputShape, zeroed: false)
        Kernels.conv2DForward(g, blocks: 1, x: input.pointer, xBlockStride: 0, w: weight.pointer, wBlockStride: 0,
                              y: y.pointer, accumulate: false)
        if let bias {
            Kernels.channelAffine(x: nil, scale: nil, shift: bias.pointer, out: y.pointer, batch: g.batch,
                                  channels: g.outChannels, spatial: g.outSpatial, accumulate: true)
        }
        return y
    }

    /// The tangent conv(x', W) + conv(x, W') + b', plus `addend` (k blocks of y's shape) when
    /// given: the first convolution adds it as it stores. Without tangents: the addend itself.
    func convTangent(_ g: ConvGeometry, _ x: [Stacked<Scalar>?], _ y: Stacked<Scalar>, _ t: [Stacked<Scalar>?],
                     _ k: Int, adding addend: Stacked<Scalar>? = nil) -> Stacked<Scalar>? {
        let tb = t.count > 2 ? t[2] : nil
        guard t[0] != nil || t[1] != nil || tb != nil else { return addend }
        var out = Stacked<Scalar>(shape: y.shape, blocks: k, zeroed: t[0] == nil && t[1] == nil)
        var written = false, pending = addend
        if let dx = t[0] {
            Kernels.conv2DForward(g, blocks: k, x: dx.pointer, xBlockStride: dx.blockStride, w: x[1]!.pointer,
                                  wBlockStride: 0, y: out.pointer, accumulate: false, addend: pending.map { UnsafePointer($0.pointer) })
            written = true; pending = nil
        }
        if let dw = t[1] {
            Kernels.conv2DForward(g, blocks: k, x: x[0]!.pointer, xBlockStride: 0, w: dw.pointer, wBlockStride: dw.blockStride,
                                  y: out.pointer, accumulate: written, addend: written ? nil : pending.map { UnsafePointer($0.pointer) })
            pending = nil
        }
        if let tb {
            for j in 0..<k {
                Kernels.channelAffine(x: nil, scale: nil, shift: tb.block(j), out: out.block(j), batch: g.batch,
                                      channels: g.outChannels, spatial: g.outSpatial, accumulate: true)
            }
        }
        if let pending { out.add(pending) }
        return out
    }

    /// x* = conv_transpose(y*, W) (+ `addingData`, m blocks of x's shape, added as the kernel
    /// stores), W* and b* as `need` asks.
    func convTranspose(_ g: ConvGeometry, _ x: [Stacked<Scalar>?], _ cot: Stacked<Scalar>, _ need: [Bool],
                       addingData addend: Stacked<Scalar>? = nil) -> [Stacked<Scalar>?] {
        let m = cot.blocks
        var result: [Stacked<Scalar>?] = Array(repeating: nil, count: x.count)
        if need[0] {
            let dx = Stacked<Scalar>(shape: x[0]!.shape, blocks: m, zeroed: false)
            Kernels.conv2DBackwardData(g, blocks: m, dy: cot.pointer, dyBlockStride: cot.blockStride, w: x[1]!.pointer,
                                       wBlockStride: 0, dx: dx.pointer, accumulate: false,
                                       addend: addend.map { UnsafePointer($0.pointer) })
            result[0] = dx
        }
        if need[1] {
            let dw = Stacked<Scalar>(shape: x[1]!.shape, blocks: m, zeroed: false)
            Kernels.conv2DBackwardWeight(g, blocks: m, x: x[0]!.pointer, xBlockStride: 0, dy: cot.pointer,
                                         dyBlockStride: cot.blockStride, dw: dw.pointer, accumulate: false)
            result[1] = dw
        }
        if x.count > 2, need[2] {
            let db = Stacked<Scalar>(shape: [g.outChannels], blocks: m)
            Kernels.channelSum(dy: cot.pointer, out: db.pointer, blocks: m, batch: g.batch, channels: g.outChannels,
                               spatial: g.outSpatial)
            result[2] = db
        }
        return result
    }

    func convCurvature(_ g: ConvGeometry, _ x: [Stacked<Scalar>?], _ t: [Stacked<Scalar>?], _ cot: Stacked<Scalar>,
                       _ need: [Bool], adding existing: [Stacked<Scalar>?]) -> [Stacked<Scalar>?] {
        var result = existing
        if need[0], let dw = t[1] {
            let dx = existing[0] ?? Stacked<Scalar>(shape: x[0]!.shape, blocks: dw.blocks, zeroed: false)
            Kernels.conv2DBackwardData(g, blocks: dw.blocks, dy: cot.pointer, dyBlockStride: 0, w: dw.pointer,
                                       wBlockStride: dw.blockStride, dx: dx.pointer, accumulate: existing[0] != nil)
            result[0] = dx
        }
        if need[1], let dx = t[0] {
            let dW = existing[1] ?? Stacked<Scalar>(shape: x[1]!.shape, blocks: dx.blocks, zeroed: false)
            Kernels.conv2DBackwardWeight(g, blocks: dx.blocks, x: dx.pointer, xBlockStride: dx.blockStride,
                                         dy: cot.pointer, dyBlockStride: 0, dw: dW.pointer, accumulate: existing[1] != nil)
            result[1] = dW
        }
        return result
    }
}
