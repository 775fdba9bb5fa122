/// Lowering of Einsum to the ops Hutch already differentiates: a two-operand product whose
/// indices are batch indices (in both operands and the output), one index contracted (in both
/// operands, not the output) and one free index per operand (in it and the output), as
/// attention writes it ("bhid,bhjd->bhij", "bhij,bhjd->bhid", MaxViT's "B G H I D, B G H J D -> B G H I J").
/// It becomes Transpose(a) to [batch, free a, contracted], Transpose(b) to [batch, contracted,
/// free b], MatMul, and a Transpose to the output's order; a transpose that would keep the order is left out.
/// Other equations (one operand, repeated or summed-away indices, an ellipsis) are refused by name.
extension GraphBuilder {
    /// The equation's parts: each operand's indices and the output's, one Character per axis.
    struct EinsumEquation: Equatable {
        var a: [Character], b: [Character], output: [Character]

        /// Parses "a,b->out" (spaces ignored); nil for anything else this lowering does not take.
        init?(_ text: String) {
            let compact = text.filter { !$0.isWhitespace }
            let sides = compact.components(separatedBy: "->")
            guard sides.count == 2, !compact.contains("...") else { return nil }
            let operands = sides[0].split(separator: ",", omittingEmptySubsequences: false)
            guard operands.count == 2 else { return nil }
            (a, b, output) = (Array(operands[0]), Array(operands[1]), Array(sides[1]))
            guard (a + b + output).allSatisfy({ $0.isLetter }) else { return nil }
        }

        /// The indices by role, in the output's order for the batch; nil when the equation is not
        /// a batched product with one contracted and one free index per operand.
        func roles() -> (batch: [Character], freeA: Character, contracted: Character, freeB: Character)? {
            guard Set(a).count == a.count, Set(b).count == b.count, Set(output).count == output.count else { return nil }
            let (sa, sb, so) = (Set(a), Set(b), Set(output))
            let contracted = sa.intersection(sb).subtracting(so), freeA = sa.subtracting(sb), freeB = sb.subtracting(sa)
            guard contracted.count == 1, freeA.count == 1, freeB.count == 1, freeA.isSubset(of: so), freeB.isSubset(of: so),
                  so.isSubset(of: sa.union(sb)) else { return nil }
            return (output.filter { sa.contains($0) && sb.contains($0) }, freeA.first!, contracted.first!, freeB.first!)
        }
    }

    /// Lowers `node` when it is an Einsum; false when it is not.
    mutating func lowerEinsum(_ node: ONNXNodeProto, name: String, operands: [Binding?]) throws -> Bool {
        guard node.opType == "Einsum" else { return false }
        let what = "\(source): node '\(name)' (Einsum)"
        func fail(_ message: String) -> ModelError { .invalidModel("\(what): \(message)") }
        guard let output = node.outputs.first, !output.isEmpty else { throw fail("has no output") }
        let text = node.string("equation") ?? ""
        guard let equation = EinsumEquation(text), operands.count == 2, let roles = equation.roles() else {
            throw fail("equation '\(text)': Hutch takes Einsum as a batched product of two inputs, each index of the output in an "
                       + "input, one index summed over, one kept from each input (as attention's 'bhid,bhjd->bhij')")
        }
        var ids: [ValueID] = []
        for index in 0..<2 {
            switch operands[index] {
            case .value(let id)?: ids.append(id)
            case .constant(let constant)?: ids.append(try materialize(node.inputs[index], constant, node: name))
            case nil: throw fail("input \(index) is missing")
            }
        }
        // both operands to the order MatMul multiplies in
        let left = try arranged(ids[0], equation.a, roles.batch + [roles.freeA, roles.contracted], name: name, role: "a", fail: fail)
        let right = try arranged(ids[1], equation.b, roles.batch + [roles.contracted, roles.freeB], name: name, role: "b", fail: fail)
        let (ls, rs) = (shape(of: left), shape(of: right))
        guard let k = ls.last!, k == rs[rs.count - 2] else {
            throw fail("index '\(roles.contracted)' has sizes \(describe([ls.last!])) and \(describe([rs[rs.count - 2]])) (the batch cannot be summed over)")
        }
        guard let batch = Broadcasting.symbolicShape(Array(ls.dropLast(2)), Array(rs.dropLast(2))) else {
            throw fail("the batch indices of shapes \(describe(shape(of: ids[0]))) and \(describe(shape(of: ids[1]))) do not match")
        }
        let product = roles.batch + [roles.freeA, roles.freeB]
        let perm = equation.output.map { product.firstIndex(of: $0)! }
        let productShape = batch + [ls[ls.count - 2], rs.last!]
        if perm == Array(0..<perm.count) {
            try emit(name, .matMul, [left, right], output: output, shape: productShape)
        } else {
            let p = try emit(name + "/matmul", .matMul, [left, right], output: name + "/product", shape: productShape)
            try emit(name, .transpose(perm: perm), [p], output: output, shape: perm.map { productShape[$0] })
        }
        return true
    }

    /// `id` (indices `labels`) transposed to the order `order`, or itself when already in it.
    private mutating func arranged(_ id: ValueID, _ labels: [Character], _ order: [Character], name: String, role: String,
                                   fail: (String) -> ModelError) throws -> ValueID {
        let xShape = shape(of: id)
        guard xShape.count == labels.count else {
            throw fail("input \(role) has shape \(describe(xShape)) but \(labels.count) indices '\(String(labels))'")
        }
        let perm = order.map { labels.firstIndex(of: $0)! }
        if perm == Array(0..<perm.count) { return id }
        return try emit(name + "/" + role, .transpose(perm: perm), [id], output: name + "/" + role + "_arranged", shape: perm.map { xShape[$0] })
    }
}
