/// The attention-mask plumbing that exporters write around softmax attention, reduced to what
/// it computes for the batches Hutch runs:
/// - `Where(IsNaN(p), 0, p)` after a softmax (PyTorch's decomposed scaled-dot-product attention)
///   is p itself: Hutch refuses non-finite inputs and weights, so p has no NaN to replace.
/// - A constant Expand-ed to [N, ...] whose every use is an elementwise op (a mask broadcast to
///   the batch before a Where and an Add) or the ids of a row lookup (BERT's token types) stays
///   [1, ...]: broadcasting gives those ops the same values. Such constants are tracked, and any
///   other use of them is refused.
extension GraphBuilder {
    /// ONNX ops that broadcast their operands elementwise.
    static let elementwiseOpTypes: Set<String> = ["Add", "Sub", "Mul", "Div", "Where", "Equal", "Not", "And", "Or", "Cast", "Identity"]

    /// Handles IsNaN on data and the Where that reads it; true when `node` was one of them.
    mutating func lowerNaNGuard(_ node: ONNXNodeProto, name: String) throws -> Bool {
        let what = "\(source): node '\(name)' (\(node.opType))"
        if node.opType == "IsNaN", let input = node.inputs.first, case .value(let x)? = bindings[input], let output = node.outputs.first {
            nanTests[output] = x
            return true
        }
        guard node.opType == "Where", node.inputs.count == 3, let guarded = nanTests[node.inputs[0]] else { return false }
        guard case .value(guarded)? = bindings[node.inputs[2]], case .constant(let fill)? = bindings[node.inputs[1]],
              fill.floats.allSatisfy({ $0 == 0 }), let output = node.outputs.first else {
            throw ModelError.invalidModel("\(what): Hutch reads IsNaN of data only as Where(IsNaN(x), 0, x), the guard after a softmax")
        }
        bindings[output] = .value(guarded)
        return true
    }

    /// Whether `node` keeps a batch-broadcast operand at `position` a broadcast: an elementwise
    /// op, or a Gather of rows (axis 0) by it, as BERT looks up its token-type embedding.
    static func keepsBroadcast(_ node: ONNXNodeProto, position: Int) -> Bool {
        elementwiseOpTypes.contains(node.opType) || (node.opType == "Gather" && position == 1 && node.int("axis", default: 0) == 0)
    }

    /// Whether every use of `name` in the model keeps it a batch broadcast.
    func usedOnlyElementwise(_ name: String) -> Bool {
        guard let uses = consumers[name], !uses.isEmpty, !graphOutputs.contains(name) else { return false }
        return uses.allSatisfy { Self.keepsBroadcast($0.node, position: $0.position) }
    }

    /// Expand of a constant to [N, ...] (N the batch size) kept as [1, ...] for elementwise uses.
    func broadcastToBatch(_ node: ONNXNodeProto, name: String, operands: [Binding?]) throws -> ConstantTensor {
        func fail(_ message: String) -> ModelError { .invalidModel("\(source): node '\(name)' (Expand): \(message)") }
        guard operands.count == 2, case .constant(let value)? = operands[0], case .constant(let target)? = operands[1],
              let dims = target.ints else {
            throw fail("Hutch expands a constant to the batch size only along the first axis")
        }
        let (padded, example) = try batchExpansion(value, dims, fail: fail)
        return value.picking(Broadcasting.indexMap(from: padded, to: example), shape: example)
    }

    /// One example of Expand(value, dims) where dims holds the batch size first and only there:
    /// value's shape padded with leading 1s to dims' rank, and that broadcast against dims with
    /// 1 for the batch.
    func batchExpansion(_ value: ConstantTensor, _ dims: [Int64], fail: (String) -> ModelError) throws -> (padded: [Int], example: [Int]) {
        guard ConstantTensor.batchFactor(dims.first ?? 0) == 1, !dims.dropFirst().contains(where: { ConstantTensor.batchFactor($0) != nil }) else {
            throw fail("the target shape must have the batch size first and only there")
        }
        guard value.shape.count <= dims.count else { throw fail("shape \(value.shape) does not expand to the batch on axis 0") }
        let padded = Array(repeating: 1, count: dims.count - value.shape.count) + value.shape
        var example = padded
        example[0] = 1
        for (axis, dim) in dims.enumerated().dropFirst() {
            let d = Int(clamping: dim)
            guard d >= 1 else { throw fail("target dimension \(dim) must be positive") }
            guard padded[axis] == d || padded[axis] == 1 || d == 1 else { throw fail("shape \(value.shape) does not expand to \(dims)") }
            example[axis] = max(padded[axis], d)
        }
        guard padded[0] == 1, let count = checkedProduct(example), count <= SizeLimits.foldedElements else {
            throw fail("shape \(value.shape) does not expand to \(dims) within the load-time limit")
        }
        return (padded, example)
    }

    /// Refuses a use of a constant that stands for a batch-expanded tensor other than in an
    /// elementwise op; true when `node` reads one.
    func readsBatchBroadcast(_ node: ONNXNodeProto, name: String) throws -> Bool {
        let positions = node.inputs.enumerated().filter { batchBroadcasts.contains($0.element) }.map(\.offset)
        guard !positions.isEmpty else { return false }
        guard positions.allSatisfy({ Self.keepsBroadcast(node, position: $0) }) else {
            throw ModelError.invalidModel("\(source): node '\(name)' (\(node.opType)) uses a constant expanded to the batch size; Hutch keeps those only for elementwise ops")
        }
        return true
    }
}
