/// Lowering of the ops that transformers, ConvNeXt and ShuffleNet add to the CNN set: data
/// movement (Transpose, Slice, Split, Gather with constant indices), the smooth functions
/// (Erf, Gelu, Sqrt, Pow, Reciprocal, Div of two activations), Softmax, LogSoftmax, general
/// ReduceMean, LayerNormalization decomposed into those, and CumSum. Every op keeps the batch on axis 0.
extension GraphBuilder {
    static let transformerOpTypes: Set<String> = [
        "Transpose", "Slice", "Split", "Gather", "Erf", "Gelu", "Sqrt", "Pow", "Reciprocal", "Softmax", "LogSoftmax",
        "LayerNormalization", "Expand", "IsNaN", "Pad", "Cast", "Where", "CumSum",
    ]

    /// Lowers `node` when it is one of `transformerOpTypes`; false when it is not.
    mutating func lowerTransformerOp(_ node: ONNXNodeProto, name: String, operands: [Binding?]) throws -> Bool {
        guard Self.transformerOpTypes.contains(node.opType) else { return false }
        let what = "\(source): node '\(name)' (\(node.opType))"
        func fail(_ message: String) -> ModelError { .invalidModel("\(what): \(message)") }
        guard let output = node.outputs.first, !output.isEmpty else { throw fail("has no output") }
        if node.opType == "Where" {
            try lowerConstantWhere(node, name: name, operands: operands, output: output, fail: fail)
            return true
        }
        if node.opType == "Cast" {
            // data is carried as float (integer inputs as exact floats), so a cast to a float
            // type is the identity: an attention mask's `.to(dtype)`
            let target = ONNXTensorProto.DataType(rawValue: Int32(clamping: node.int("to", default: 0)))
            if case .value(let x)? = operands.first ?? nil, try lowerDiscreteCast(x, to: target, name: name, output: output) { return true }
            guard target == .float || target == .double, case .value(let x)? = operands.first ?? nil else {
                throw fail("casts data to \(target?.name ?? "type \(node.int("to", default: 0))"); Hutch casts data only to float")
            }
            try emit(name, .identity, [x], output: output, shape: shape(of: x))
            return true
        }
        if node.opType == "Expand", case .value(let x)? = operands.first ?? nil {
            try lowerDataExpand(x, target: operands.count > 1 ? operands[1] : nil, name: name, output: output, fail: fail)
            return true
        }
        if node.opType == "Expand" {
            try lowerExpand(node, name: name, operands: operands, output: output, fail: fail)
            return true
        }
        if node.opType == "Gather", case .constant(let table)? = operands.first ?? nil, case .value(let ids)? = operands.count > 1 ? operands[1] : nil {
            // an embedding lookup: rows of a weight picked by token ids
            guard node.int("axis", default: 0) == 0, table.shape.count >= 2 else { throw fail("Hutch looks up rows (axis 0) of a table of rank 2 or more") }
            let tableID = try materialize(node.inputs[0], table, node: name)
            try emit(name, .embedding, [ids, tableID], output: output, shape: shape(of: ids) + table.shape.dropFirst().map { Optional($0) })
            return true
        }
        guard let first = operands.first, let bound = first, case .value(let x) = bound else {
            throw fail("input 0 must be data that depends on the model input")
        }
        let xShape = shape(of: x)
        let rank = xShape.count
        func constant(_ index: Int) -> ConstantTensor? {
            guard index < operands.count, let binding = operands[index], case .constant(let value) = binding else { return nil }
            return value
        }
        func constantInts(_ index: Int, _ role: String) throws -> [Int]? {
            guard index < operands.count, operands[index] != nil else { return nil }
            guard let value = constant(index), let ints = value.ints, !value.hasBatchSymbol else { throw fail("\(role) must be constant integers") }
            return ints.map { Int(clamping: $0) }
        }
        func axis(_ raw: Int) throws -> Int {
            let a = raw < 0 ? raw + rank : raw
            guard a >= 0, a < rank, xShape[a] != nil else { throw fail("axis \(raw) must be an axis of \(describe(xShape)) without the batch") }
            return a
        }
        func size(_ a: Int) throws -> Int {
            guard let n = xShape[a] else { throw fail("axis \(a) of \(describe(xShape)) must be static") }
            return n
        }

        switch node.opType {
        case "Transpose":
            let perm = node.ints("perm")?.map { Int(clamping: $0) } ?? Array((0..<rank).reversed())
            guard perm.sorted() == Array(0..<rank) else { throw fail("perm \(perm) is not a permutation of \(rank) axes") }
            try emit(name, .transpose(perm: perm), [x], output: output, shape: perm.map { xShape[$0] })

        case "Slice":
            let starts: [Int], ends: [Int], axes: [Int]?, steps: [Int]?
            if opset < 10 {
                guard let s = node.ints("starts"), let e = node.ints("ends") else { throw fail("needs starts and ends") }
                (starts, ends) = (s.map { Int(clamping: $0) }, e.map { Int(clamping: $0) })
                axes = node.ints("axes")?.map { Int(clamping: $0) }
                steps = nil
            } else {
                guard let s = try constantInts(1, "starts"), let e = try constantInts(2, "ends") else { throw fail("needs starts and ends") }
                (starts, ends) = (s, e)
                axes = try constantInts(3, "axes")
                steps = try constantInts(4, "steps")
            }
            let sliced = axes ?? Array(0..<starts.count)
            guard starts.count == ends.count, sliced.count == starts.count, (steps?.count ?? starts.count) == starts.count else {
                throw fail("starts, ends, axes and steps differ in length")
            }
            var current = x
            for (n, raw) in sliced.enumerated() {
                let step = steps?[n] ?? 1
                guard step != 0 else { throw fail("a step is 0") }
                let normalized = raw < 0 ? raw + rank : raw
                if normalized >= 0, normalized < rank, xShape[normalized] == nil {
                    guard step == 1, starts[n] == 0, ends[n] >= Int(Int32.max) else { throw fail("slicing the batch dimension is not supported") }
                    continue
                }
                let a = try axis(raw), dim = try size(a)
                let indices = sliceIndices(start: starts[n], end: ends[n], step: step, dim: dim)
                guard !indices.isEmpty else { throw fail("the slice of axis \(a) is empty") }
                if indices == Array(0..<dim) { continue }
                var outShape = shape(of: current)
                outShape[a] = indices.count
                let last = n == sliced.count - 1
                current = try emit(last ? name : "\(name)/axis\(a)", .take(axis: a, indices: indices), [current],
                                   output: last ? output : "\(output)/axis\(a)", shape: outShape)
            }
            if current == x || bindings[output] == nil { try emit(name, .identity, [current], output: output, shape: shape(of: current)) }

        case "Split":
            let a = try axis(Int(clamping: node.int("axis", default: 0))), dim = try size(a)
            let parts = node.outputs.count
            var sizes = try constantInts(1, "split") ?? node.ints("split")?.map { Int(clamping: $0) }
            if sizes == nil {
                guard parts >= 1 else { throw fail("has no outputs") }
                let chunk = (dim + parts - 1) / parts   // ONNX: equal parts, the last one smaller
                sizes = (0..<parts).map { min(chunk, max(0, dim - $0 * chunk)) }
            }
            guard let sizes, sizes.count == parts, sizes.allSatisfy({ $0 > 0 }), sizes.reduce(0, +) == dim else {
                throw fail("split sizes do not cover axis \(a) of \(describe(xShape)) in \(parts) outputs")
            }
            var start = 0
            for (part, count) in zip(node.outputs, sizes) {
                defer { start += count }
                guard !part.isEmpty else { continue }
                var outShape = xShape
                outShape[a] = count
                try emit("\(name)/\(part)", .take(axis: a, indices: Array(start..<(start + count))), [x], output: part, shape: outShape)
            }

        case "Gather":
            if case .value(let indices)? = operands.count > 1 ? operands[1] : nil {
                try lowerGatherByData(x, indices: indices, axis: Int(clamping: node.int("axis", default: 0)), name: name, output: output, fail: fail)
                return true
            }
            let a = try axis(Int(clamping: node.int("axis", default: 0))), dim = try size(a)
            guard let index = constant(1), let raw = index.ints, !index.hasBatchSymbol, index.shape.count <= 1 else {
                throw fail("indices must be a constant scalar or list (token lookups of integer inputs are not supported)")
            }
            let indices = try raw.map { value -> Int in
                let i = value < 0 ? Int(value) + dim : Int(clamping: value)
                guard i >= 0, i < dim else { throw fail("index \(value) is outside axis \(a) of \(describe(xShape))") }
                return i
            }
            var taken = xShape
            taken[a] = indices.count
            if index.shape.isEmpty {
                let id = try emit("\(name)/take", .take(axis: a, indices: indices), [x], output: "\(output)/take", shape: taken)
                taken.remove(at: a)
                // the batch keeps its place unless it came after the removed axis
                let target = taken.enumerated().map { index, dim in
                    dim ?? (index < a ? 0 : Op.batchDimension(times: batchFactor(of: x)))
                }
                try emit(name, .reshape(shape: target), [id], output: output, shape: taken)
            } else {
                try emit(name, .take(axis: a, indices: indices), [x], output: output, shape: taken)
            }

        case "Pad":
            let pads = try padAmounts(node, rank: rank, constant(1), axes: constant(3), what: what)
            if let fill = constant(2), fill.floats.contains(where: { $0 != 0 }) { throw fail("only padding with zeros is supported") }
            guard (0..<rank).allSatisfy({ xShape[$0] != nil || (pads[$0] == 0 && pads[$0 + rank] == 0) }) else {
                throw fail("pads \(pads) pad the batch dimension")
            }
            let outShape = (0..<rank).map { axis in xShape[axis].map { $0 + pads[axis] + pads[axis + rank] } }
            try emit(name, pads.allSatisfy({ $0 == 0 }) ? .identity : .pad(pads: pads), [x], output: output, shape: outShape)

        case "Erf": try emit(name, .erf, [x], output: output, shape: xShape)
        case "Sqrt": try emit(name, .power(exponent: 0.5), [x], output: output, shape: xShape)
        case "Reciprocal": try emit(name, .power(exponent: -1), [x], output: output, shape: xShape)
        case "Gelu":
            let form = node.string("approximate") ?? "none"
            guard form == "none" || form == "tanh" else { throw fail("unknown approximate '\(form)'") }
            try emit(name, .gelu(tanhApproximation: form == "tanh"), [x], output: output, shape: xShape)
        case "Pow":
            guard let exponent = constant(1), exponent.count == 1, let p = exponent.floats.first, p.isFinite else {
                throw fail("the exponent must be a constant scalar")
            }
            try emit(name, .power(exponent: p), [x], output: output, shape: xShape)

        case "Softmax", "LogSoftmax":
            let fallback: Int64 = opset < 13 ? 1 : -1
            let a = try axis(Int(clamping: node.int("axis", default: fallback)))
            // before opset 13 the op worked on the axes from `axis` on, flattened: one axis only here
            guard opset >= 13 || a == rank - 1 else { throw fail("axis \(a) is not the last axis (opset \(opset) softmax flattens the rest)") }
            try emit(name, node.opType == "Softmax" ? .softmax(axis: a) : .logSoftmax(axis: a), [x], output: output, shape: xShape)

        case "LayerNormalization":
            try lowerLayerNormalization(node, name: name, x: x, scale: constant(1), bias: constant(2), fail: fail)

        case "CumSum":
            // RoBERTa's position ids: a running count of the tokens that are not padding
            guard let given = try constantInts(1, "axis"), given.count == 1 else { throw fail("axis must be one constant integer") }
            try emit(name, .cumulativeSum(axis: try axis(given[0]), exclusive: node.int("exclusive", default: 0) != 0,
                                          reverse: node.int("reverse", default: 0) != 0), [x], output: output, shape: xShape)

        default:
            return false
        }
        return true
    }

    /// Expand of a constant to [batch, ...]: the constant broadcast to the example's shape now,
    /// repeated over the batch when the model runs.
    private mutating func lowerExpand(_ node: ONNXNodeProto, name: String, operands: [Binding?], output: String,
                                      fail: (String) -> ModelError) throws {
        guard operands.count == 2, let first = operands[0], case .constant(let value) = first,
              let second = operands[1], case .constant(let target) = second, let dims = target.ints else {
            throw fail("Hutch expands only a constant to a shape computed from the input (a class token)")
        }
        let (padded, example) = try batchExpansion(value, dims, fail: fail)
        // the constant itself when only the batch grows, so that it keeps its name (a parameter)
        let one: ValueID
        if example == value.shape {
            one = try materialize(node.inputs[0], value, node: name)
        } else {
            let expanded = value.picking(Broadcasting.indexMap(from: padded, to: example), shape: example)
            one = try materialize("\(node.inputs[0])/expanded", expanded, node: name)
        }
        try emit(name, .repeatBatch, [one], output: output, shape: [nil] + example.dropFirst().map { Optional($0) })
    }

    /// (x - mean) / sqrt(var + epsilon) * scale + bias over the axes from `axis` on, written with
    /// the engine's ReduceMean, Mul, Add and Pow so that its derivatives are theirs.
    private mutating func lowerLayerNormalization(_ node: ONNXNodeProto, name: String, x: ValueID, scale: ConstantTensor?,
                                                  bias: ConstantTensor?, fail: (String) -> ModelError) throws {
        let xShape = shape(of: x), rank = xShape.count
        let raw = Int(clamping: node.int("axis", default: -1))
        let first = raw < 0 ? raw + rank : raw
        guard first >= 0, first < rank, xShape[first...].allSatisfy({ $0 != nil }) else {
            throw fail("axis \(raw): the normalized axes of \(describe(xShape)) must not hold the batch")
        }
        guard let scale else { throw fail("scale must be a constant (an initializer)") }
        let normalized = Array(first..<rank)
        guard scale.shape.count <= normalized.count, zip(scale.shape.reversed(), normalized.map { xShape[$0] }.reversed()).allSatisfy({ $0 == $1 }) else {
            throw fail("scale shape \(scale.shape) does not match the normalized axes of \(describe(xShape))")
        }
        if node.inputs.count > 2, !node.inputs[2].isEmpty, bias == nil { throw fail("bias must be a constant (an initializer)") }
        let epsilon = node.float("epsilon", default: 1e-5)
        guard epsilon.isFinite, epsilon >= 0 else { throw fail("epsilon \(epsilon) must be finite and not negative") }
        let output = node.outputs[0]
        var reduced = xShape
        for a in normalized { reduced[a] = 1 }
        func scalar(_ suffix: String, _ value: Float) throws -> ValueID {
            try materialize("\(name)/\(suffix)", ConstantTensor(shape: [], elements: .float([value])), node: name)
        }
        let mean = try emit("\(name)/mean", .reduceMean(axes: normalized, keepDims: true), [x], output: "\(output)/mean", shape: reduced)
        let negated = try emit("\(name)/negate_mean", .mul, [mean, try scalar("minus_one", -1)], output: "\(output)/negated_mean", shape: reduced)
        let centered = try emit("\(name)/center", .add, [x, negated], output: "\(output)/centered", shape: xShape)
        let squared = try emit("\(name)/square", .mul, [centered, centered], output: "\(output)/squared", shape: xShape)
        let variance = try emit("\(name)/variance", .reduceMean(axes: normalized, keepDims: true), [squared], output: "\(output)/variance", shape: reduced)
        let shifted = try emit("\(name)/add_epsilon", .add, [variance, try scalar("epsilon", epsilon)], output: "\(output)/variance_epsilon", shape: reduced)
        let inverse = try emit("\(name)/rsqrt", .power(exponent: -0.5), [shifted], output: "\(output)/inverse_deviation", shape: reduced)
        let standardized = try emit("\(name)/standardize", .mul, [centered, inverse], output: "\(output)/standardized", shape: xShape)
        let scaleID = try materialize(node.inputs[1], scale, node: name)
        if let bias {
            let scaled = try emit("\(name)/scale", .mul, [standardized, scaleID], output: "\(output)/scaled", shape: xShape)
            try emit(name, .add, [scaled, try materialize(node.inputs[2], bias, node: name)], output: output, shape: xShape)
        } else {
            try emit(name, .mul, [standardized, scaleID], output: output, shape: xShape)
        }
    }

    /// The indices an ONNX Slice of one axis of size `dim` takes (negative bounds count from the
    /// end; bounds are clamped as the operator's definition says).
    private func sliceIndices(start: Int, end: Int, step: Int, dim: Int) -> [Int] {
        func resolve(_ value: Int) -> Int { value < 0 ? value + dim : value }
        if step > 0 {
            let from = min(max(resolve(start), 0), dim), to = min(max(resolve(end), 0), dim)
            return Array(stride(from: from, to: to, by: step))
        }
        let from = min(max(resolve(start), 0), dim - 1), to = min(max(resolve(end), -1), dim - 1)
        return Array(stride(from: from, to: to, by: step))
    }
}
