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
    /// block equals its Gauss-Newton block and exact traces apply (DESIGN.md, "Exact mode").
    /// Otherwise the first obstacle: an op that is not piecewise linear (`Op.isPiecewiseLinear`),
    /// or a product (Conv, Gemm, MatMul, Mul) of two factors that both depend on the same weight.
    public var exactTraceObstacle: CurvatureObstacle? {
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
                if !node.op.isPiecewiseLinear {
                    reason = "is not piecewise linear"
                } else if dependent >= 2 {
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
}
