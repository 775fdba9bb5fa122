import HutchModel
import HutchTensor

/// Gemm and MatMul layers in `hessianQuadraticForms`: the convolutions' inner-product forms
/// (QuadraticForms.swift) for any bilinear y = f(x, W) whose second operand is a layer's weight.
/// With direction V, tangent x' and adjoint y*, the layer's share v^T (Hv)_W is
///   <V, J_W^T dy*' + J_W(x')^T y*> = <f(x, V), dy*'> + <x', J_x(V)^T y*>,
/// and J_x(V)^T y* is the curvature term the sweep adds to x's adjoint tangent anyway. So the
/// two weight-gradient products per layer and probe, the primal weight gradient and the 1 + k
/// weight-shaped adjoints a chunk held until its sweep ended are gone; f(x, V) costs one product,
/// recomputed here (keeping it from the tangent sweep would hold k outputs per layer).
extension Executor {
    /// Whether the sweeps form this Gemm's or MatMul's share of the forms from inner products:
    /// its second operand is a directed weight and its first is not a parameter.
    func isQuadraticProduct(_ node: Node, _ quadratic: QuadraticForms<Scalar>?) -> Bool {
        guard let quadratic, isWeightProduct(node), let w = node.inputs[1] else { return false }
        return quadratic.layers.contains(w)
    }

    /// A Gemm or MatMul of an activation (operand 0) by a parameter (operand 1).
    func isWeightProduct(_ node: Node) -> Bool {
        switch node.op {
        case .gemm, .matMul: break
        default: return false
        }
        guard node.inputs.count >= 2, let x = node.inputs[0], let w = node.inputs[1] else { return false }
        return parameters[x] == nil && parameters[w] != nil
    }

    /// The reverse sweep's adjoint tangents of such a node's inputs (the weight's left out), after
    /// adding its two inner products to `quadratic`'s forms. `ts` are the inputs' tangents (the
    /// weight's is V), `g` the primal adjoint of the output and `dg` its tangent.
    func productFormsReverse(_ i: Int, _ node: Node, _ x: [Stacked<Scalar>?], _ y: Stacked<Scalar>, _ ts: [Stacked<Scalar>?],
                             _ g: Stacked<Scalar>?, _ dg: Stacked<Scalar>?, need: [Bool], k: Int, _ tape: Tape<Scalar>,
                             _ quadratic: QuadraticForms<Scalar>) throws(ExecutionError) -> [Stacked<Scalar>?] {
        let w = node.inputs[1]!
        var onlyV = [Stacked<Scalar>?](repeating: nil, count: ts.count)
        onlyV[1] = ts[1]
        if let dg, onlyV[1] != nil, let term = try tangent(i, node, x, y, onlyV, k: k, tape) {
            for j in 0..<k { quadratic.forms[w]![j] += QuadraticForms.dot(term.block(j), dg.block(j), term.blockCount) }
        }
        var curvature: Stacked<Scalar>?
        if let g, need[0], onlyV[1] != nil {
            let none = [Stacked<Scalar>?](repeating: nil, count: ts.count)
            curvature = try self.curvature(i, node, x, y, onlyV, g, need: need, k: k, tape, adding: none)[0]
            if let dx = ts[0], let curvature {
                for j in 0..<k { quadratic.forms[w]![j] += QuadraticForms.dot(dx.block(j), curvature.block(j), dx.blockCount) }
            }
        }
        // x' meets no curvature term here: its partner is the weight, whose adjoint is not formed
        var parts = [Stacked<Scalar>?](repeating: nil, count: node.inputs.count)
        if let dg, need.contains(true) { parts = try transpose(i, node, x, y, dg, need: need, tape) }
        parts[0] = Stacked.sum(parts[0], curvature)
        return parts
    }
}
