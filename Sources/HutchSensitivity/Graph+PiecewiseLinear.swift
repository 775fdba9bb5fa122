import HutchModel

/// Why exact traces do not apply to a model: the first node (in graph order) on a path from a
/// quantizable weight to the logits that is not piecewise linear in that weight.
public struct CurvatureObstacle: Sendable, Hashable, CustomStringConvertible {
    public var node: String
    public var op: String
    public var weight: String
    public var reason: String
    public var description: String {
        "node '\(node)' (\(op)) on the path from weight '\(weight)' to the logits \(reason)"
    }
}

extension Graph {
    /// Nil when the logits are piecewise linear in each quantizable weight, so that every Hessian
    /// block equals its Gauss-Newton block and exact traces apply (Protocols/README.md, "Exact mode").
    /// Otherwise the first obstacle: an op that is not piecewise linear (`Op.isPiecewiseLinear`),
    /// or a product (Conv, Gemm, MatMul, Mul) of two factors that both depend on the same weight.
    public var exactTraceObstacle: CurvatureObstacle? { obstacle(piecewiseLinear: true) }

    /// Nil when per-example weight-gradient norms apply (every node between a weight and the
    /// logits keeps each example's rows apart), as the sampled GGN needs; else the first obstacle.
    public var perExampleObstacle: CurvatureObstacle? { obstacle(piecewiseLinear: false) }

    private func obstacle(piecewiseLinear: Bool) -> CurvatureObstacle? {
        // values from which the output is reachable
        var reaches = Array(repeating: false, count: values.count)
        reaches[output.index] = true
        for node in nodes.reversed() where node.outputs.contains(where: { reaches[$0.index] }) {
            for v in node.inputs.compactMap({ $0 }) { reaches[v.index] = true }
        }
        var found: (node: Int, obstacle: CurvatureObstacle)?
        for layer in quantizableLayers {
            var depends = Array(repeating: false, count: values.count)
            depends[layer.weight.index] = true
            for (i, node) in nodes.enumerated() {
                let dependent = node.inputs.compactMap { $0 }.filter { depends[$0.index] }.count
                guard dependent > 0 else { continue }
                for o in node.outputs { depends[o.index] = true }
                guard node.outputs.contains(where: { reaches[$0.index] }) else { continue }
                var reason: String?
                if !keepsExamplesInRows(node) {
                    reason = "moves the batch out of the first axis (exact traces take each example's rows apart)"
                } else if piecewiseLinear && !node.op.isPiecewiseLinear {
                    reason = "is not piecewise linear"
                } else if piecewiseLinear && dependent >= 2 {
                    switch node.op {
                    case .conv, .gemm, .matMul, .mul: reason = "multiplies two factors that both depend on that weight"
                    default: break
                    }
                }
                if let reason, found.map({ i < $0.node }) ?? true {
                    found = (i, CurvatureObstacle(node: node.name, op: node.op.onnxType, weight: layer.weightName, reason: reason))
                }
            }
        }
        return found?.obstacle
    }

    /// Whether the node's output keeps the batch on axis 0 with each example's entries together
    /// (a Transpose or Reshape may fold heads or tokens into the batch, as attention does).
    private func keepsExamplesInRows(_ node: Node) -> Bool {
        func shape(_ id: ValueID?) -> [Int?] { id.flatMap { values[$0.index].shape } ?? [] }
        let out = shape(node.outputs.first)
        guard out.dropFirst().allSatisfy({ $0 != nil }) else { return false }
        switch node.op {
        case .transpose(let perm): return perm.first == 0
        case .reshape, .flatten:
            let input = shape(node.inputs.first ?? nil)
            if !input.contains(nil) && !out.contains(nil) { return true }   // a weight reshaped
            return input.first == .some(nil) && out.first == .some(nil)
                && input.compactMap { $0 }.reduce(1, *) == out.compactMap { $0 }.reduce(1, *)
        default: return true
        }
    }
}
