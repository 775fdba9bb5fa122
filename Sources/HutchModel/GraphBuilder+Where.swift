/// Where with a constant condition and one data branch, as a causal mask selects attention
/// scores: Where(c, x, f) = x * m + f * (1 - m) with m = 1 where x is chosen. Linear in x, so
/// it lowers to a Mul and an Add by constants, whose rules the engine has. A data condition or two
/// data branches take the general `select` (GraphBuilder+DataIndexing.swift).
extension GraphBuilder {
    mutating func lowerConstantWhere(_ node: ONNXNodeProto, name: String, operands: [Binding?], output: String,
                                     fail: (String) -> ModelError) throws {
        // a data condition, or two data branches: the general select
        let isData = { (operand: Binding?) -> Bool in if case .value? = operand { true } else { false } }
        if operands.count == 3, isData(operands[0]) || (isData(operands[1]) && isData(operands[2])) {
            try lowerSelect(node, name: name, operands: operands, output: output)
            return
        }
        guard operands.count == 3, case .constant(let condition)? = operands[0] else {
            throw fail("the condition must be a constant (a causal mask); Hutch does not select by data")
        }
        let x: ValueID, fill: ConstantTensor, keepWhere: Bool
        switch (operands[1], operands[2]) {
        case (.value(let data)?, .constant(let other)?): (x, fill, keepWhere) = (data, other, true)
        case (.constant(let other)?, .value(let data)?): (x, fill, keepWhere) = (data, other, false)
        default: throw fail("one branch must be data and the other a constant")
        }
        guard !condition.hasBatchSymbol, !fill.hasBatchSymbol, fill.floats.allSatisfy(\.isFinite),
              let maskShape = Broadcasting.shape([condition.shape, fill.shape]),
              let outShape = Broadcasting.symbolicShape(shape(of: x), maskShape.map { $0 }) else {
            throw fail("the condition \(condition.shape) and the constant \(fill.shape) must be finite and broadcast with the data \(describe(shape(of: x)))")
        }
        let conditionAt = Broadcasting.indexMap(from: condition.shape, to: maskShape)
        let fillAt = Broadcasting.indexMap(from: fill.shape, to: maskShape)
        let (conditions, fills) = (condition.floats, fill.floats)
        var keep = [Float](repeating: 0, count: conditionAt.count), filled = keep
        for i in keep.indices {
            let kept = (conditions[conditionAt[i]] != 0) == keepWhere
            keep[i] = kept ? 1 : 0
            filled[i] = kept ? 0 : fills[fillAt[i]]
        }
        let m = try materialize(name + "/keep", ConstantTensor(shape: maskShape, elements: .float(keep)), node: name)
        let f = try materialize(name + "/fill", ConstantTensor(shape: maskShape, elements: .float(filled)), node: name)
        let kept = try emit(name + "/select", .mul, [x, m], output: name + "/kept", shape: outShape)
        try emit(name, .add, [kept, f], output: output, shape: outShape)
    }
}
