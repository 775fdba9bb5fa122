/// Lowering of the supported ONNX ops to IR nodes, with ONNX defaults applied and static shape
/// inference (the batch dimension stays symbolic, nil).
extension GraphBuilder {
    mutating func lower(_ node: ONNXNodeProto, name: String, operands: [Binding?]) throws {
        if try lowerTransformerOp(node, name: name, operands: operands) { return }
        if try lowerDataIndexingOp(node, name: name, operands: operands) { return }
        if try lowerEinsum(node, name: name, operands: operands) { return }
        let what = "\(source): node '\(name)' (\(node.opType))"
        func fail(_ message: String) -> ModelError { .invalidModel("\(what): \(message)") }

        /// The IR value of input `index`, materializing a constant operand as an initializer.
        func operand(_ index: Int) throws -> ValueID {
            guard index < operands.count, let binding = operands[index] else { throw fail("input \(index) is missing") }
            switch binding {
            case .value(let id): return id
            case .constant(let constant): return try materialize(node.inputs[index], constant, node: name)
            }
        }
        func optionalOperand(_ index: Int) throws -> ValueID? {
            guard index < operands.count, operands[index] != nil else { return nil }
            return try operand(index)
        }
        func constantOperand(_ index: Int) -> ConstantTensor? {
            guard index < operands.count, let binding = operands[index], case .constant(let value) = binding else { return nil }
            return value
        }
        func isConstant(_ index: Int) -> Bool { constantOperand(index) != nil }
        func shapeOf(_ id: ValueID) -> [Int?] { shape(of: id) }
        func concrete(_ shape: [Int?], _ role: String) throws -> [Int] {
            let dims = shape.compactMap { $0 }
            guard dims.count == shape.count else { throw fail("\(role) shape \(describe(shape)) must be static") }
            return dims
        }
        func ints(_ attribute: String, count: Int, default value: Int) throws -> [Int] {
            guard let list = node.ints(attribute) else { return Array(repeating: value, count: count) }
            guard list.count == count, list.allSatisfy({ $0 >= 0 && $0 <= 1 << 20 }) else {
                throw fail("attribute \(attribute) \(list) does not fit \(count) spatial dimensions")
            }
            return list.map { Int($0) }
        }

        var op: Op
        var inputs: [ValueID?]
        var outShape: [Int?]

        switch node.opType {
        case "Conv", "MaxPool", "AveragePool":
            let x = try operand(0)
            let xShape = shapeOf(x)
            guard xShape.count >= 3 else { throw fail("input shape \(describe(xShape)) needs [N, C, spatial...]") }
            let spatial = try concrete(Array(xShape[2...]), "input spatial")
            let rank = spatial.count
            var kernel: [Int]
            var weightShape: [Int] = []
            if node.opType == "Conv" {
                let w = try operand(1)
                weightShape = try concrete(shapeOf(w), "weight")
                guard weightShape.count == rank + 2 else { throw fail("weight shape \(weightShape) does not match input \(describe(xShape))") }
                kernel = try ints("kernel_shape", count: rank, default: 0)
                if node.ints("kernel_shape") == nil { kernel = Array(weightShape[2...]) }
                guard kernel == Array(weightShape[2...]) else { throw fail("kernel_shape \(kernel) differs from the weight's \(weightShape)") }
                inputs = [x, w, try optionalOperand(2)]
            } else {
                guard node.ints("kernel_shape") != nil else { throw fail("attribute kernel_shape is required") }
                kernel = try ints("kernel_shape", count: rank, default: 1)
                inputs = [x]
                if node.outputs.count > 1, !node.outputs[1].isEmpty { throw fail("the Indices output is not supported") }
            }
            let strides = try ints("strides", count: rank, default: 1)
            let dilations = try ints("dilations", count: rank, default: 1)
            guard strides.allSatisfy({ $0 >= 1 }), dilations.allSatisfy({ $0 >= 1 }), kernel.allSatisfy({ $0 >= 1 }) else {
                throw fail("kernel, strides and dilations must be positive")
            }
            let ceilMode = node.int("ceil_mode", default: 0) != 0
            let pads = try resolvePads(node, spatial: spatial, kernel: kernel, strides: strides, dilations: dilations, fail: fail)
            var outSpatial: [Int?] = []
            for axis in 0..<rank {
                let span = spatial[axis] + pads[axis] + pads[axis + rank] - dilations[axis] * (kernel[axis] - 1) - 1
                guard span >= 0 else { throw fail("the kernel is larger than the padded input \(describe(xShape))") }
                var size = (ceilMode ? (span + strides[axis] - 1) / strides[axis] : span / strides[axis]) + 1
                // With ceil_mode the last window must start inside the input or its begin padding.
                if ceilMode, (size - 1) * strides[axis] >= spatial[axis] + pads[axis] { size -= 1 }
                outSpatial.append(size)
            }
            switch node.opType {
            case "Conv":
                let group = Int(clamping: node.int("group", default: 1))
                guard let channels = xShape[1], group >= 1, channels == weightShape[1] * group, weightShape[0] % group == 0 else {
                    throw fail("input channels \(xShape[1].map(String.init) ?? "N"), group \(group) and weight \(weightShape) do not match")
                }
                if let bias = inputs[2], shapeOf(bias) != [weightShape[0]] {
                    throw fail("bias shape \(describe(shapeOf(bias))) should be [\(weightShape[0])]")
                }
                op = .conv(ConvAttributes(kernelShape: kernel, strides: strides, pads: pads, dilations: dilations, group: group))
                outShape = [xShape[0], weightShape[0]] + outSpatial
            case "MaxPool":
                op = .maxPool(PoolAttributes(kernelShape: kernel, strides: strides, pads: pads, dilations: dilations, ceilMode: ceilMode))
                outShape = Array(xShape[..<2]) + outSpatial
            default:
                guard dilations.allSatisfy({ $0 == 1 }) else { throw fail("dilated AveragePool is not supported") }
                op = .averagePool(PoolAttributes(kernelShape: kernel, strides: strides, pads: pads, dilations: dilations, ceilMode: ceilMode,
                                                 countIncludePad: node.int("count_include_pad", default: 0) != 0))
                outShape = Array(xShape[..<2]) + outSpatial
            }

        case "GlobalAveragePool", "ReduceMean":
            let x = try operand(0)
            let xShape = shapeOf(x)
            guard xShape.count >= 3 || node.opType == "ReduceMean" else { throw fail("input shape \(describe(xShape)) needs [N, C, spatial...]") }
            if node.opType == "ReduceMean" {
                let axes = try constantOperand(1).map { constant -> [Int64] in
                    guard let values = constant.ints else { throw fail("axes must be integers") }
                    return values
                } ?? node.ints("axes") ?? []
                let normalized = Set(axes.map { $0 < 0 ? Int($0) + xShape.count : Int($0) })
                let keepDims = node.int("keepdims", default: 1) != 0
                if normalized != Set(2..<xShape.count) || !keepDims {
                    // other axes: the general mean (global average pooling keeps its own kernel)
                    let sorted = normalized.sorted()
                    guard let low = sorted.first, let high = sorted.last, low >= 0, high < xShape.count, high - low + 1 == sorted.count,
                                sorted.allSatisfy({ xShape[$0] != nil }) else {
                        throw fail("ReduceMean over axes \(axes.map { Int($0) }) of \(describe(xShape)): Hutch supports adjacent axes without the batch")
                    }
                    let reduced: [Int?] = xShape.enumerated().filter { keepDims || !normalized.contains($0.offset) }
                        .map { normalized.contains($0.offset) ? 1 : $0.element }
                    guard let output = node.outputs.first, !output.isEmpty else { throw fail("has no output") }
                    try emit(name, .reduceMean(axes: sorted, keepDims: keepDims), [x], output: output, shape: reduced)
                    return
                }
            }
            op = .globalAveragePool
            inputs = [x]
            outShape = Array(xShape[..<2]) + Array(repeating: 1, count: xShape.count - 2)

        case "Gemm":
            let a = try operand(0), b = try operand(1)
            let attributes = GemmAttributes(transA: node.int("transA", default: 0) != 0, transB: node.int("transB", default: 0) != 0,
                                            alpha: node.float("alpha", default: 1), beta: node.float("beta", default: 1))
            let aShape = shapeOf(a), bShape = shapeOf(b)
            guard aShape.count == 2, bShape.count == 2 else { throw fail("needs rank-2 inputs, got \(describe(aShape)) and \(describe(bShape))") }
            guard !(attributes.transA && aShape[0] == nil) else { throw fail("transA=1 would move the batch dimension of input A") }
            let (m, k) = attributes.transA ? (aShape[1], aShape[0]) : (aShape[0], aShape[1])
            let (k2, n) = attributes.transB ? (bShape[1], bShape[0]) : (bShape[0], bShape[1])
            guard k == k2 || k == nil || k2 == nil else { throw fail("inner dimensions of \(describe(aShape)) and \(describe(bShape)) differ") }
            outShape = [m, n]
            let c = try optionalOperand(2)
            if let c, Broadcasting.symbolicShape(shapeOf(c), outShape) != outShape {
                throw fail("bias shape \(describe(shapeOf(c))) does not broadcast to \(describe(outShape))")
            }
            op = .gemm(attributes)
            inputs = [a, b, c]

        case "MatMul":
            let a = try operand(0), b = try operand(1)
            let aShape = shapeOf(a), bShape = shapeOf(b)
            guard !aShape.isEmpty, !bShape.isEmpty else { throw fail("needs inputs of rank 1 or more") }
            let left = aShape.count == 1 ? [1] + aShape : aShape
            let right = bShape.count == 1 ? bShape + [1] : bShape
            guard left[left.count - 1] != nil, right[right.count - 2] != nil else {
                throw fail("the product would sum over the batch (shapes \(describe(aShape)) and \(describe(bShape)))")
            }
            guard left[left.count - 1] == right[right.count - 2],
                  let batch = Broadcasting.symbolicShape(Array(left.dropLast(2)), Array(right.dropLast(2))) else {
                throw fail("shapes \(describe(aShape)) and \(describe(bShape)) do not multiply")
            }
            outShape = batch + (aShape.count == 1 ? [] : [left[left.count - 2]]) + (bShape.count == 1 ? [] : [right[right.count - 1]])
            op = .matMul
            inputs = [a, b]

        case "Add", "Mul", "Sub", "Div":
            var a = try operand(0)
            var b: ValueID
            switch node.opType {
            case "Sub":
                // a - b = a + (-b): fold the negation into a constant b, else multiply b by -1.
                if let constant = constantOperand(1) {
                    b = try materialize(node.inputs[1] + "/negated", ConstantTensor(shape: constant.shape, elements: .float(constant.floats.map { -$0 })), node: name)
                } else {
                    let minusOne = try materialize(name + "/minus_one", ConstantTensor(shape: [], elements: .float([-1])), node: name)
                    let negatedInput = try operand(1)
                    b = try emit(name + "/negate", .mul, [negatedInput, minusOne], output: name + "/negated", shape: shapeOf(negatedInput))
                }
                op = .add
            case "Div":
                if let constant = constantOperand(1) {
                    guard case .float(let divisor) = constant.elements else { throw fail("the divisor must be a float tensor") }
                    guard !divisor.contains(0) else { throw fail("divides by zero") }
                    b = try materialize(node.inputs[1] + "/reciprocal", ConstantTensor(shape: constant.shape, elements: .float(divisor.map { 1 / $0 })), node: name)
                } else {
                    // a / b = a * b^-1 for an activation b (attention scaling, a decomposed LayerNorm)
                    let divisor = try operand(1)
                    b = try emit(name + "/reciprocal", .power(exponent: -1), [divisor], output: name + "/reciprocal", shape: shapeOf(divisor))
                }
                op = .mul
            case "Mul":
                // two activations (SiLU's x * sigmoid(x), a squeeze-excite gate) are fine: Mul's
                // curvature is its cross terms (Executor+Elementwise), and such a network is not
                // piecewise linear, so `auto` takes Hutchinson (Graph+PiecewiseLinear)
                b = try operand(1)
                op = .mul
            default:
                b = try operand(1)
                op = .add
            }
            if case .mul = op, isConstant(0) { swap(&a, &b) }
            guard let shape = Broadcasting.symbolicShape(shapeOf(a), shapeOf(b)) else {
                throw fail("shapes \(describe(shapeOf(a))) and \(describe(shapeOf(b))) do not broadcast")
            }
            inputs = [a, b]
            outShape = shape

        case "Relu", "Sigmoid", "Tanh", "LeakyRelu", "Clip", "Identity", "Dropout":
            let x = try operand(0)
            inputs = [x]
            outShape = shapeOf(x)
            switch node.opType {
            case "Relu": op = .relu
            case "Sigmoid": op = .sigmoid
            case "Tanh": op = .tanh
            case "LeakyRelu": op = .leakyRelu(alpha: node.float("alpha", default: 0.01))
            case "Clip":
                func bound(_ index: Int, _ attribute: String, _ fallback: Float) throws -> Float {
                    if index < operands.count, operands[index] != nil {
                        guard let constant = constantOperand(index), constant.count == 1, let value = constant.floats.first, !value.isNaN else {
                            throw fail("\(attribute) must be a constant scalar")
                        }
                        return value
                    }
                    return node.attribute(attribute)?.f ?? fallback
                }
                let low = try bound(1, "min", -.infinity), high = try bound(2, "max", .infinity)
                guard low <= high else { throw fail("min \(low) is greater than max \(high)") }
                op = .clip(min: low, max: high)
            case "Dropout":
                if let training = constantOperand(2), training.floats.first.map({ $0 != 0 }) == true {
                    throw fail("training_mode is true; export the model in eval mode")
                }
                op = .identity
            default: op = .identity
            }

        case "HardSigmoid", "HardSwish":
            // clip(alpha * x + beta, 0, 1), and HardSwish multiplies it by x: lowered to Mul, Add,
            // Clip and Mul, whose rules are the engine's (HardSigmoid stays piecewise linear)
            let x = try operand(0)
            let swish = node.opType == "HardSwish"
            let alpha = swish ? Float(1) / 6 : node.float("alpha", default: 0.2)
            let beta = swish ? Float(0.5) : node.float("beta", default: 0.5)
            guard alpha.isFinite, beta.isFinite else { throw fail("alpha \(alpha) and beta \(beta) must be finite") }
            let shape = shapeOf(x)
            let a = try materialize(name + "/alpha", ConstantTensor(shape: [], elements: .float([alpha])), node: name)
            let b = try materialize(name + "/beta", ConstantTensor(shape: [], elements: .float([beta])), node: name)
            let scaled = try emit(name + "/scale", .mul, [x, a], output: name + "/scaled", shape: shape)
            let shifted = try emit(name + "/shift", .add, [scaled, b], output: name + "/shifted", shape: shape)
            if swish {
                let gate = try emit(name + "/gate", .clip(min: 0, max: 1), [shifted], output: name + "/gated", shape: shape)
                op = .mul
                inputs = [x, gate]
            } else {
                op = .clip(min: 0, max: 1)
                inputs = [shifted]
            }
            outShape = shape

        case "BatchNormalization":
            let x = try operand(0)
            let xShape = shapeOf(x)
            guard xShape.count >= 2, let channels = xShape[1] else { throw fail("input shape \(describe(xShape)) needs [N, C, ...]") }
            guard node.int("training_mode", default: 0) == 0 else { throw fail("training_mode=1; export the model in eval mode") }
            guard (1...4).allSatisfy(isConstant) else { throw fail("scale, bias, mean and variance must be initializers") }
            inputs = [x]
            for index in 1...4 {
                let id = try operand(index)
                guard shapeOf(id) == [channels] else { throw fail("input \(index) has shape \(describe(shapeOf(id))), expected [\(channels)]") }
                inputs.append(id)
            }
            op = .batchNormalization(epsilon: node.float("epsilon", default: 1e-5))
            outShape = xShape

        case "Flatten":
            let x = try operand(0)
            let xShape = shapeOf(x)
            let rawAxis = Int(clamping: node.int("axis", default: 1))
            let axis = rawAxis < 0 ? rawAxis + xShape.count : rawAxis
            guard axis >= 0, axis <= xShape.count else { throw fail("axis \(rawAxis) is out of range for \(describe(xShape))") }
            func product(_ dims: ArraySlice<Int?>) -> Int? {
                dims.reduce(Optional(1)) { total, dim in total.flatMap { t in dim.map { t * $0 } } }
            }
            outShape = [product(xShape[..<axis]), product(xShape[axis...])]
            guard outShape[0] == nil, outShape[1] != nil else { throw fail("Flatten with axis \(rawAxis) mixes the batch dimension into the features") }
            // the batch dimension now also holds the dimensions between it and the axis
            let batchAxis = xShape.firstIndex(of: nil) ?? 0
            let layout = batchLayout(of: x)
            guard let before = checkedProduct(xShape[..<batchAxis].compactMap { $0 }),
                  let after = checkedProduct(xShape[(batchAxis + 1)..<max(axis, batchAxis + 1)].compactMap { $0 }) else { throw fail("is too large") }
            guard let output = node.outputs.first, !output.isEmpty else { throw fail("has no output") }
            try emit(name, .flatten(axis: axis), [x], output: output, shape: outShape,
                     batchLayout: BatchLayout(outer: layout.outer * before, inner: layout.inner * after))
            return

        case "Reshape", "Squeeze", "Unsqueeze":
            let x = try operand(0)
            let xShape = shapeOf(x)
            let target: [Int]
            if node.opType == "Reshape" {
                guard let constant = constantOperand(1), let requested = constant.ints else {
                    throw fail("the target shape must be constant (Hutch folds shape computations; this one depends on data)")
                }
                let allowZero = node.int("allowzero", default: 0) != 0
                let layout = batchLayout(of: x), factor = layout.factor
                target = try requested.enumerated().map { index, dim -> Int in
                    let k = ConstantTensor.batchFactor(dim) ?? (index == 0 && exportedBatch.map(Int64.init) == dim && xShape.first == .some(nil) ? 1 : nil)
                    if let k {
                        // the batch where it was: copy it (0), as ONNX would; else the batch size times k
                        return index < xShape.count && xShape[index] == nil && Int64(factor) == k ? 0 : Op.batchDimension(times: Int(k))
                    }
                    guard dim >= -1, dim <= Int64(Int32.max), !(allowZero && dim == 0) else { throw fail("invalid target dimension \(dim)") }
                    return Int(dim)
                }
                let (resolved, outLayout) = try reshapeShape(xShape, layout, target, fail: fail)
                inputs = [x]
                guard let output = node.outputs.first, !output.isEmpty else { throw fail("has no output") }
                try emit(name, .reshape(shape: target), inputs, output: output, shape: resolved, batchLayout: outLayout)
                return
            } else {
                outShape = try squeezeShape(node, xShape, axes: constantOperand(1), fail: fail)
                guard outShape.filter({ $0 == nil }).count == xShape.filter({ $0 == nil }).count else {
                    throw fail("\(node.opType) would remove the batch dimension")
                }
                // the batch where it was is copied (0); elsewhere it is the batch size times its factor
                target = outShape.enumerated().map { index, dim in
                    dim ?? (index < xShape.count && xShape[index] == nil ? 0 : Op.batchDimension(times: batchFactor(of: x)))
                }
            }
            op = .reshape(shape: target)
            inputs = [x]

        case "Concat":
            let ids = try (0..<operands.count).compactMap { try optionalOperand($0) }
            guard let first = ids.first else { throw fail("has no inputs") }
            let rank = shapeOf(first).count
            let rawAxis = Int(clamping: node.int("axis", default: 0))
            let axis = rawAxis < 0 ? rawAxis + rank : rawAxis
            guard axis >= 0, axis < rank, shapeOf(first)[axis] != nil else { throw fail("axis \(rawAxis) must be an axis without the batch, of rank \(rank)") }
            var shape = shapeOf(first)
            for id in ids.dropFirst() {
                let other = shapeOf(id)
                guard other.count == rank, (0..<rank).allSatisfy({ $0 == axis || other[$0] == shape[$0] }), let size = other[axis], let current = shape[axis] else {
                    throw fail("shapes \(ids.map { describe(shapeOf($0)) }) do not concatenate on axis \(axis)")
                }
                shape[axis] = current + size
            }
            op = .concat(axis: axis)
            inputs = ids
            outShape = shape

        default:
            throw fail("is not supported")
        }

        guard let output = node.outputs.first, !output.isEmpty else { throw fail("has no output") }
        try emit(name, op, inputs, output: output, shape: outShape)
    }

    /// Appends a node with one output and binds the output name. The output's batch-dependent
    /// dimension has `batchLayout`, by default that of the first input that has one (every op
    /// but Reshape keeps it).
    @discardableResult
    mutating func emit(_ name: String, _ op: Op, _ inputs: [ValueID?], output: String, shape: [Int?],
                       batchLayout layout: BatchLayout? = nil) throws -> ValueID {
        guard let elements = checkedProduct(shape.compactMap { $0 }), elements <= SizeLimits.elementsPerExample else {
            throw ModelError.invalidModel("\(source): node '\(name)' output \(describe(shape)) is too large (over 2^32 elements per example)")
        }
        guard shape.filter({ $0 == nil }).count <= 1 else {
            throw ModelError.invalidModel("\(source): node '\(name)' output \(describe(shape)) has the batch size in two dimensions")
        }
        let inherited = inputs.compactMap { $0 }.first { self.shape(of: $0).contains(nil) }.map { batchLayout(of: $0) } ?? BatchLayout()
        let id = addValue(output, shape: shape)
        if let kept = layout ?? (shape.contains(nil) ? inherited : nil), kept != BatchLayout() { batchLayouts[id] = kept }
        nodes.append(Node(name: name, op: op, inputs: inputs, outputs: [id]))
        bindings[output] = .value(id)
        return id
    }

    /// Explicit pads from `pads` or `auto_pad` (SAME_UPPER puts the odd pad at the end, SAME_LOWER at the begin).
    private func resolvePads(_ node: ONNXNodeProto, spatial: [Int], kernel: [Int], strides: [Int], dilations: [Int],
                             fail: (String) -> ModelError) throws -> [Int] {
        let rank = spatial.count
        switch node.string("auto_pad") ?? "NOTSET" {
        case "NOTSET", "":
            guard let pads = node.ints("pads") else { return Array(repeating: 0, count: 2 * rank) }
            guard pads.count == 2 * rank, pads.allSatisfy({ $0 >= 0 && $0 <= 1 << 20 }) else {
                throw fail("pads \(pads) do not fit \(rank) spatial dimensions")
            }
            return pads.map { Int($0) }
        case "VALID":
            return Array(repeating: 0, count: 2 * rank)
        case let mode where mode == "SAME_UPPER" || mode == "SAME_LOWER":
            var pads = Array(repeating: 0, count: 2 * rank)
            for axis in 0..<rank {
                let out = (spatial[axis] + strides[axis] - 1) / strides[axis]
                let total = max(0, (out - 1) * strides[axis] + (kernel[axis] - 1) * dilations[axis] + 1 - spatial[axis])
                let small = total / 2
                pads[axis] = mode == "SAME_UPPER" ? small : total - small
                pads[axis + rank] = total - pads[axis]
            }
            return pads
        case let mode:
            throw fail("unknown auto_pad '\(mode)'")
        }
    }

    /// Output shape of an ONNX Reshape (0 copies the input dimension, -1 is inferred, entries
    /// from `Op.batchDimension(times:)` are the batch size N times k) where nil is the
    /// batch-dependent dimension, laid out as `layout` says; and the output's layout.
    ///
    /// Examples must stay apart: with the input [outer, o * N * i, inner] (products of the
    /// dimensions around its batch dimension), the output [outer', o' * N * i', inner'] keeps
    /// every example in whole rows of its batch dimension when o * outer = o' * outer' and
    /// i * inner = i' * inner' for whole numbers o', i' (`BatchLayout`).
    private func reshapeShape(_ input: [Int?], _ layout: BatchLayout, _ target: [Int],
                              fail: (String) -> ModelError) throws -> (shape: [Int?], layout: BatchLayout) {
        var resolved: [Int?] = []
        var outFactor: Int?
        for (index, dim) in target.enumerated() {
            if dim == 0 {
                guard index < input.count else { throw fail("target dimension \(index) copies a dimension the input does not have") }
                resolved.append(input[index])
                if input[index] == nil { outFactor = layout.factor }
            } else if let k = Op.batchFactor(ofDimension: dim) {
                resolved.append(nil)
                outFactor = k
            } else {
                resolved.append(dim == -1 ? 1 : dim)   // -1 is found below
            }
        }
        guard resolved.filter({ $0 == nil }).count <= 1 else { throw fail("target shape \(target) has the batch size twice") }
        guard resolved.allSatisfy({ ($0 ?? 1) >= 1 }) else { throw fail("invalid target shape \(target)") }
        let inferred = target.enumerated().filter { $0.element == -1 }.map(\.offset)
        guard inferred.count <= 1 else { throw fail("target shape \(target) has more than one -1") }
        func product(_ dims: ArraySlice<Int?>) throws -> Int {
            guard let p = checkedProduct(dims.compactMap { $0 }) else { throw fail("target shape \(target) is too large") }
            return p
        }
        let total = try product(input[...]) * (input.contains(nil) ? layout.factor : 1)   // all but N
        guard let inBatch = input.firstIndex(where: { $0 == nil }) else {
            // no batch in the input: none may appear, and -1 is whatever is left
            guard outFactor == nil else { throw fail("reshaping \(describe(input)) to \(target) puts the batch size where the input has none") }
            let known = try product(resolved[...])
            if let slot = inferred.first {
                guard known > 0, total % known == 0 else { throw fail("cannot reshape \(describe(input)) to \(target)") }
                resolved[slot] = total / known
            } else {
                guard total == known else { throw fail("cannot reshape \(describe(input)) to \(target)") }
            }
            return (resolved, BatchLayout())
        }
        let mixes = fail("reshaping \(describe(input)) to \(target) would mix examples of the batch")
        // the output's batch dimension: an explicit one, else the -1 takes the batch
        guard let outBatch = resolved.firstIndex(where: { $0 == nil }) ?? inferred.first else { throw mixes }
        if let slot = inferred.first, slot != outBatch {
            // -1 elsewhere: what the batch dimension and the other dimensions leave of the input
            let known = try product(resolved[...]) * (outFactor ?? 1)
            guard known > 0, total % known == 0 else { throw fail("cannot reshape \(describe(input)) to \(target)") }
            resolved[slot] = total / known
        }
        resolved[outBatch] = 1
        let (outer, inner) = (try product(input[..<inBatch]) * layout.outer, try product(input[(inBatch + 1)...]) * layout.inner)
        let (outOuter, outInner) = (try product(resolved[..<outBatch]), try product(resolved[(outBatch + 1)...]))
        guard outOuter > 0, outInner > 0, outer % outOuter == 0, inner % outInner == 0 else { throw mixes }
        let result = BatchLayout(outer: outer / outOuter, inner: inner / outInner)
        if let explicit = outFactor, explicit != result.factor { throw fail("cannot reshape \(describe(input)) to \(target)") }
        resolved[outBatch] = nil
        return (resolved, result)
    }

    /// Output shape of Squeeze/Unsqueeze with axes from the input (opset >= 13) or the attribute.
    private func squeezeShape(_ node: ONNXNodeProto, _ input: [Int?], axes constant: ConstantTensor?,
                              fail: (String) -> ModelError) throws -> [Int?] {
        let axes: [Int]?
        if let constant {
            guard let values = constant.ints, !constant.hasBatchSymbol else { throw fail("axes must be constant integers") }
            axes = values.map { Int(clamping: $0) }
        } else {
            axes = node.ints("axes")?.map { Int(clamping: $0) }
        }
        if node.opType == "Unsqueeze" {
            guard let axes else { throw fail("has no axes") }
            let rank = input.count + axes.count
            let normalized = axes.map { $0 < 0 ? $0 + rank : $0 }.sorted()
            guard normalized.allSatisfy({ $0 >= 0 && $0 < rank }), Set(normalized).count == normalized.count else { throw fail("invalid axes \(axes)") }
            var shape = input
            for axis in normalized { shape.insert(1, at: axis) }
            return shape
        }
        guard let axes else { return input.filter { $0 != 1 } }
        let normalized = Set(axes.map { $0 < 0 ? $0 + input.count : $0 })
        guard normalized.allSatisfy({ $0 >= 0 && $0 < input.count && input[$0] == 1 }) else { throw fail("cannot squeeze axes \(axes) of \(describe(input))") }
        return input.enumerated().filter { !normalized.contains($0.offset) }.map(\.element)
    }
}
