/// Lowering of the ops that index and mask with data, as PyTorch writes advanced indexing and
/// `as_strided` (ConvNeXt's and Swin's pooling in the dynamo export) and as transformers builds
/// BERT's padding mask from `attention_mask`: Range(0, N) over the batch, index arithmetic with
/// Mul and Add, Gather and GatherND by those indices, Max, And and comparisons on data, Cast of
/// data to bool or integers, Expand of data and Where with a data condition.
///
/// Indices travel as exact floats. A gather may read only its own example's rows: the rule checks
/// that at run time (HutchAutodiff/Ops/GatherND.swift), so examples stay apart.
extension GraphBuilder {
    /// ONNX ops lowered here when an input is data (on constants they are folded).
    static let dataIndexingOpTypes: Set<String> = ["And", "Or", "Xor", "Not", "Equal", "Greater", "GreaterOrEqual", "Less", "LessOrEqual",
                                                   "Max", "GatherND"]

    /// Range(0, N, 1) with N the batch size becomes `batchRange`; true when `node` was one.
    mutating func lowerBatchRange(_ node: ONNXNodeProto, name: String, operands: [Binding?]) throws -> Bool {
        guard node.opType == "Range", operands.count == 3, case .constant(let limit)? = operands[1], limit.hasBatchSymbol,
              case .constant(let start)? = operands[0], case .constant(let delta)? = operands[2] else { return false }
        guard start.ints == [0], delta.ints == [1], let n = limit.ints, n.count == 1, ConstantTensor.batchFactor(n[0]) == 1,
              let output = node.outputs.first, !output.isEmpty else {
            throw ModelError.invalidModel("\(source): node '\(name)' (Range) computes with the batch size; Hutch takes only Range(0, N, 1) over the batch")
        }
        try emit(name, .batchRange, [], output: output, shape: [nil])
        return true
    }

    /// Lowers `node` when it is one of `dataIndexingOpTypes`; false when it is not.
    mutating func lowerDataIndexingOp(_ node: ONNXNodeProto, name: String, operands: [Binding?]) throws -> Bool {
        guard Self.dataIndexingOpTypes.contains(node.opType) else { return false }
        let fail = failure(node, name)
        guard let output = node.outputs.first, !output.isEmpty else { throw fail("has no output") }
        let ids = try (0..<operands.count).map { try dataOperand(node, operands, $0, name: name, fail: fail) }
        switch node.opType {
        case "GatherND":
            guard ids.count == 2 else { throw fail("needs data and indices") }
            try emitGatherND(name, data: ids[0], indices: ids[1], batchDims: Int(clamping: node.int("batch_dims", default: 0)),
                             output: output, fail: fail)
        case "Max":
            guard !ids.isEmpty else { throw fail("has no inputs") }
            try emit(name, .max, ids, output: output, shape: try broadcastShape(ids, fail: fail))
        default:
            guard let op = DiscreteOp(onnxType: node.opType), ids.count == (op.isUnary ? 1 : 2) else { throw fail("has \(ids.count) inputs") }
            try emit(name, .discrete(op), ids, output: output, shape: try broadcastShape(ids, fail: fail))
        }
        return true
    }

    /// Where(c, x, y) with a data condition c: `select`, the branches data or constants.
    mutating func lowerSelect(_ node: ONNXNodeProto, name: String, operands: [Binding?], output: String) throws {
        let fail = failure(node, name)
        guard operands.count == 3 else { throw fail("needs a condition and two branches") }
        let ids = try (0..<3).map { try dataOperand(node, operands, $0, name: name, fail: fail) }
        try emit(name, .select, ids, output: output, shape: try broadcastShape(ids, fail: fail))
    }

    /// Cast of data to bool (1 where not 0) or to an integer type (toward zero); false for other targets.
    mutating func lowerDiscreteCast(_ x: ValueID, to target: ONNXTensorProto.DataType?, name: String, output: String) throws -> Bool {
        let integers: Set<ONNXTensorProto.DataType> = [.int64, .int32, .int16, .int8, .uint8]
        guard let target, target == .bool || integers.contains(target) else { return false }
        try emit(name, .discrete(target == .bool ? .notZero : .truncate), [x], output: output, shape: shape(of: x))
        return true
    }

    /// Expand of data x to a constant shape (which may hold the batch size where x has it): x
    /// plus zeros of the expanded shape, whose broadcasting is the expansion.
    mutating func lowerDataExpand(_ x: ValueID, target: Binding?, name: String, output: String, fail: (String) -> ModelError) throws {
        guard case .constant(let dims)? = target, let ints = dims.ints, dims.shape.count == 1 else {
            throw fail("the target shape of data must be constant")
        }
        let xShape = shape(of: x)
        let wanted: [Int?] = try ints.map { dim in
            if let k = ConstantTensor.batchFactor(dim) {
                guard k == Int64(batchFactor(of: x)) else { throw fail("the target shape holds the batch size times \(k), the data \(batchFactor(of: x))") }
                return nil
            }
            guard dim >= 1, dim <= Int64(Int32.max) else { throw fail("target dimension \(dim) must be positive") }
            return Int(dim)
        }
        guard let outShape = Broadcasting.symbolicShape(xShape, wanted) else {
            throw fail("data \(describe(xShape)) does not expand to \(describe(wanted))")
        }
        if outShape == xShape {
            try emit(name, .identity, [x], output: output, shape: outShape)
            return
        }
        let zerosShape = outShape.map { $0 ?? 1 }
        guard let count = checkedProduct(zerosShape), count <= SizeLimits.foldedElements else { throw fail("the expanded shape is too large") }
        let zeros = try materialize(name + "/zeros", ConstantTensor(shape: zerosShape, elements: .float(Array(repeating: 0, count: count))), node: name)
        try emit(name, .add, [x, zeros], output: output, shape: outShape)
    }

    /// Gather of data x along axis 0 (its batch axis) by data indices: GatherND of the indices
    /// as 1-tuples (as_strided's reads of a flattened tensor).
    mutating func lowerGatherByData(_ x: ValueID, indices: ValueID, axis: Int, name: String, output: String,
                                    fail: (String) -> ModelError) throws {
        guard axis == 0 || axis == -shape(of: x).count else { throw fail("Hutch gathers by data indices only along axis 0, the batch") }
        let iShape = shape(of: indices)
        let tuples = try emit(name + "/tuples", .reshape(shape: iShape.map { $0 ?? 0 } + [1]), [indices], output: output + "/tuples",
                              shape: iShape + [1])
        try emitGatherND(name, data: x, indices: tuples, batchDims: 0, output: output, fail: fail)
    }

    /// GatherND with the batch on axis 0 of data and indices. With batch_dims 0 the first entry
    /// of a tuple is a row of data's batch axis (which the rule keeps within the example); with
    /// batch_dims >= 1 the indices may be a constant [1, ...] that every example uses.
    private mutating func emitGatherND(_ name: String, data: ValueID, indices: ValueID, batchDims b: Int, output: String,
                                       fail: (String) -> ModelError) throws {
        let (dShape, iShape) = (shape(of: data), shape(of: indices))
        guard let last = iShape.last, let k = last, k >= 1, b >= 0, b + k <= dShape.count, iShape.count >= b + 1 else {
            throw fail("indices \(describe(iShape)) and batch_dims \(b) do not fit data \(describe(dShape))")
        }
        guard dShape.first == .some(nil), batchLayout(of: data).outer == 1 else {
            throw fail("data \(describe(dShape)) must have the batch on axis 0")
        }
        let constantIndices = !iShape.contains(nil)
        guard constantIndices ? (b >= 1 && iShape[0] == 1) : (iShape[0] == nil && batchFactor(of: indices) == 1) else {
            throw fail("indices \(describe(iShape)) must have the batch on axis 0 (or be a constant [1, ...] with batch_dims >= 1)")
        }
        guard b == 0 || batchFactor(of: data) == 1, (1..<max(b, 1)).allSatisfy({ iShape[$0] == dShape[$0] }) else {
            throw fail("the batch dimensions of data \(describe(dShape)) and indices \(describe(iShape)) differ")
        }
        let outShape = [nil] + Array(iShape.dropFirst().dropLast()) + Array(dShape[(b + k)...])
        try emit(name, .gatherND(batchDims: b), [data, indices], output: output, shape: outShape, batchLayout: BatchLayout())
    }

    /// The IR value of input `index`: data, or a constant materialized (integers as exact floats).
    private mutating func dataOperand(_ node: ONNXNodeProto, _ operands: [Binding?], _ index: Int, name: String,
                                      fail: (String) -> ModelError) throws -> ValueID {
        guard index < operands.count, let binding = operands[index] else { throw fail("input \(index) is missing") }
        switch binding {
        case .value(let id): return id
        case .constant(let constant):
            guard !constant.hasBatchSymbol else { throw fail("input \(index) computes with the batch size") }
            return try materialize(node.inputs[index], constant, node: name)
        }
    }

    private func broadcastShape(_ ids: [ValueID], fail: (String) -> ModelError) throws -> [Int?] {
        var result = shape(of: ids[0])
        for id in ids.dropFirst() {
            guard let next = Broadcasting.symbolicShape(result, shape(of: id)) else {
                throw fail("shapes \(ids.map { describe(shape(of: $0)) }) do not broadcast")
            }
            result = next
        }
        return result
    }

    private func failure(_ node: ONNXNodeProto, _ name: String) -> (String) -> ModelError {
        let what = "\(source): node '\(name)' (\(node.opType))"
        return { .invalidModel("\(what): \($0)") }
    }
}
