/// GatherElements of a table by data indices where every entry of the table is one value: the
/// result is that value wherever an index is. RoBERTa (and XLM-R, CamemBERT) pick their token-type
/// ids so: a buffer of zeros, expanded to the batch, gathered by the position ids, which depend on
/// the tokens. Lowered as indices * 0 (+ the value); the indices are discrete, so nothing flows back.
extension GraphBuilder {
    /// Lowers `node` when it is such a GatherElements; false for any other node, and an error
    /// naming the node for a GatherElements by data whose table holds more than one value.
    mutating func lowerUniformGather(_ node: ONNXNodeProto, name: String, operands: [Binding?]) throws -> Bool {
        guard node.opType == "GatherElements", operands.count == 2, case .value(let indices)? = operands[1],
              let output = node.outputs.first, !output.isEmpty else { return false }
        guard let table = uniformTable(operands[0]) else {
            throw ModelError.invalidModel("\(source): node '\(name)' (GatherElements) gathers by indices that depend on the input; "
                                          + "Hutch does that only from a constant table that holds one value (RoBERTa's token types)")
        }
        let indexShape = shape(of: indices)
        let zero = try materialize(name + "/zero", ConstantTensor(shape: [], elements: .float([0])), node: name)
        if table == 0 {
            try emit(name, .mul, [indices, zero], output: output, shape: indexShape)
            return true
        }
        let zeroed = try emit(name + "/zeroed", .mul, [indices, zero], output: name + "/zeroed", shape: indexShape)
        let value = try materialize(name + "/value", ConstantTensor(shape: [], elements: .float([table])), node: name)
        try emit(name, .add, [zeroed, value], output: output, shape: indexShape)
        return true
    }

    /// The one value of a constant table, or of a constant repeated over the batch; nil otherwise.
    private func uniformTable(_ operand: Binding?) -> Float? {
        let entries: [Float]
        switch operand {
        case .constant(let c)?:
            entries = c.floats
        case .value(let id)?:
            // the constant an Expand repeated over the batch (`repeatBatch` of an initializer)
            guard let node = nodes.last(where: { $0.outputs.contains(id) }), node.op == .repeatBatch,
                  let source = node.inputs.first ?? nil, let tensor = initializers[source] else { return nil }
            entries = tensor.data
        case nil:
            return nil
        }
        guard let first = entries.first, entries.allSatisfy({ $0 == first }) else { return nil }
        return first
    }
}
