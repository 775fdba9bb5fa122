import HutchModel
import HutchTensor

/// What one run of the integer network gives.
public struct IntegerRun: Sendable {
    /// Logit codes [N, classes] at the final layer's output quantization.
    public var logits: IntegerTensor
    /// The codes at each quantization point, in `IntegerProgram.points` order (the last is `logits`).
    public var codes: [IntegerTensor]
    /// Per point, each value before rounding in output LSBs (x / S + z), only when asked for:
    /// floating point for explanations, computed beside the integer network, not in it.
    public var unrounded: [[Double]]
}

extension IntegerProgram {
    /// Runs the network on float inputs [N, ...]. After the input is quantized (QuantizeLinear's
    /// float arithmetic) every step is integer multiply, add, compare or shift.
    public func run(_ x: Tensor<Float>, unrounded wantUnrounded: Bool = false) throws(ExportError) -> IntegerRun {
        guard let batch = x.shape.first else { throw ExportError(.data, "integer check: the input has no batch dimension") }
        var floats: [ValueID: Tensor<Float>] = [input: x]
        var wide: [ValueID: IntegerTensor] = [:]
        var codes: [ValueID: IntegerTensor] = [:]
        var pointCodes = [IntegerTensor?](repeating: nil, count: points.count)
        var unrounded = [[Double]](repeating: [], count: wantUnrounded ? points.count : 0)
        func read(_ table: [ValueID: IntegerTensor], _ id: ValueID) -> IntegerTensor {
            guard let value = table[id] else { preconditionFailure("integer program reads \(id) before it is computed") }
            return value
        }

        for step in steps {
            switch step {
            case .quantizeInput(let id, let point):
                guard let value = floats[id] else { preconditionFailure("integer program reads \(id) before it is computed") }
                let q = points[point].quantization
                let result = IntegerTensor(shape: value.shape, data: value.data.map { q.grid.quantize($0, q.parameters) })
                (codes[id], pointCodes[point]) = (result, result)
                if wantUnrounded {
                    unrounded[point] = value.data.map { Double($0 / q.parameters.scale) + Double(q.parameters.zeroPoint) }
                }
            case .requantize(let id, let requantizer, let point):
                let value = read(wide, id)
                let result = requantizer(value)
                (codes[id], pointCodes[point]) = (result, result)
                if wantUnrounded { unrounded[point] = requantizer.unrounded(value) }
            case .layer(let layer, let input, let output):
                wide[output] = try layer(read(codes, input))
            case .clamp(let input, let output, let lower, let upper, let layout):
                let value = read(wide, input), per = value.perExample
                wide[output] = IntegerTensor(shape: value.shape, data: value.data.enumerated().map { i, v in
                    let c = layout.channel(ofElement: i % per)
                    return Int32(min(max(Int64(v), lower[c]), upper[c]))
                })
            case .pool(let input, let output, let isMax, let w, let node):
                let value = read(wide, input)
                let g: ConvGeometry
                do {
                    g = try ConvGeometry(poolInput: value.shape, kernel: w.kernelShape, strides: w.strides, pads: w.pads,
                                         dilations: w.dilations, ceilMode: w.ceilMode)
                } catch { throw ExportError(.model, "integer check: node '\(node)': \(error)") }
                let sums = isMax ? IntegerKernels.maxPool(value, g) : IntegerKernels.sumPool(value, g)
                wide[output] = try IntegerTensor(shape: [g.batch, g.outChannels] + g.outputSpatial, sums: sums, node: node)
            case .add(let a, let b, let output, let add, let node):
                wide[output] = try add(read(wide, a), read(wide, b), node: node)
            case .reshape(let input, let output, let perExample):
                if let value = floats[input] {
                    floats[output] = Tensor(shape: [batch] + perExample, data: value.data)
                } else {
                    wide[output] = IntegerTensor(shape: [batch] + perExample, data: read(wide, input).data)
                }
            }
        }
        let all = pointCodes.compactMap { $0 }
        guard all.count == points.count, let logits = all.last else { preconditionFailure("integer program left a quantization point unset") }
        return IntegerRun(logits: logits, codes: all, unrounded: unrounded)
    }
}
