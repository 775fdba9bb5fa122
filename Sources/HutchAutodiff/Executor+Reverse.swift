import HutchModel
import HutchTensor

/// The sweeps shared by every public entry point.
extension Executor {
    /// Tangents for k stacked directions on parameters. Only the tangents that the reverse
    /// sweep's curvature terms read (and the output's) are kept; the others are freed as soon as
    /// their last consumer has run, which bounds memory for large k. The tape values marked in
    /// `releasing` (`releasableTapeValues`) are released after the last node here that reads them.
    func tangentSweep(_ tape: inout Tape<Scalar>, _ directions: [ValueID: Stacked<Scalar>], k: Int,
                      quadratic: QuadraticForms<Scalar>? = nil, releasing: [Bool]? = nil) throws(ExecutionError) -> [Stacked<Scalar>?] {
        var t = [Stacked<Scalar>?](repeating: nil, count: graph.values.count)
        for (id, d) in directions { t[id.index] = d }
        var keep = Array(repeating: false, count: graph.values.count)
        var lastUse = Array(repeating: -1, count: graph.values.count)
        var lastRead = Array(repeating: -1, count: graph.values.count)   // of the tape value: consumers and producer
        keep[graph.output.index] = true
        for (i, node) in graph.nodes.enumerated() {
            let curved = node.op.rule.hasCurvature
            for v in node.inputs.compactMap({ $0 }) {
                lastUse[v.index] = i
                lastRead[v.index] = i
                if curved { keep[v.index] = true }
            }
            lastRead[node.outputs[0].index] = i
        }
        for (i, node) in graph.nodes.enumerated() {
            defer {
                if let releasing {
                    for v in node.inputs.compactMap({ $0 }) + [node.outputs[0]] where lastRead[v.index] == i && releasing[v.index] {
                        tape.values[v.index] = tape.values[v.index]?.released()
                    }
                }
            }
            var ts = node.inputs.map { $0.flatMap { t[$0.index] } }
            // tangents this node is the last to read go now, so that it may overwrite them
            for v in node.inputs.compactMap({ $0 }) where lastUse[v.index] == i && !keep[v.index] {
                t[v.index] = nil
            }
            guard ts.contains(where: { $0 != nil }), let y = tape.values[node.outputs[0].index] else { continue }
            if isQuadraticConv(node, quadratic), let quadratic, let v = ts[1] {
                // keep conv(x, V) apart: its inner product with the adjoint's tangent is the
                // layer's v^T (Hv) share without a weight-gradient GEMM
                let x = inputs(of: node, tape)
                let term = convTangent(tape.geometry[i]!, x, y, [nil, v], k)!
                // kept for the reverse sweep unless that recomputes it (cheap layers, `keepsTerm`)
                if quadratic.keepsTerm(tape.geometry[i]!) { quadratic.weightTerms[i] = term }
                var rest = ts; rest[1] = nil
                // the other terms' convolution adds conv(x, V) as it stores; with no other
                // terms the tangent is conv(x, V) itself (shared storage: later writers copy)
                t[node.outputs[0].index] = convTangent(tape.geometry[i]!, x, y, rest, k, adding: term)
            } else if let inPlace = tangentInPlace(node, y, &ts) {
                t[node.outputs[0].index] = inPlace
            } else {
                t[node.outputs[0].index] = try tangent(i, node, inputs(of: node, tape), y, ts, k: k, tape)
            }
            // a direction on an activation perturbs it after its producer: seed plus propagated
            if let seed = directions[node.outputs[0]] {
                t[node.outputs[0].index] = Stacked.sum(t[node.outputs[0].index], seed)
            }
        }
        return t
    }

    /// The tangent of an Add of two same-shape operands, summed into an operand's tangent that
    /// nothing else holds (`ts` gives it up); nil when that is not possible. (Activations stay
    /// out of place: their masking loop vectorizes only with distinct input and output.)
    private func tangentInPlace(_ node: Node, _ y: Stacked<Scalar>, _ ts: inout [Stacked<Scalar>?]) -> Stacked<Scalar>? {
        // no local copies of the operands before the uniqueness check: each would hold a reference
        guard node.op == .add, ts.count == 2, ts[0]?.shape == y.shape, ts[1]?.shape == y.shape else { return nil }
        for mine in 0..<2 {
            guard var sum = ts[mine].take() else { continue }
            if sum.isUnique() {
                sum.add(ts[1 - mine]!)
                return sum
            }
            ts[mine] = sum
        }
        return nil
    }

    /// What a quantizable layer does instead of producing its weight's adjoint (per-example norms).
    typealias WeightHook = (_ nodeIndex: Int, _ node: Node, _ inputs: [Stacked<Scalar>?], _ cot: Stacked<Scalar>) throws(ExecutionError) -> Void

    /// Reverse sweep from the output adjoint `seed` (m blocks). With `tangents`, also sweeps the
    /// adjoints' tangents from `tangentSeed` (forward-over-reverse). `need` marks the values
    /// whose adjoints are wanted; `hooked` weights go to `hook` instead.
    func reverseSweep(_ tape: Tape<Scalar>, need: [Bool], seed: Stacked<Scalar>,
                      tangents: [Stacked<Scalar>?]? = nil, tangentSeed: Stacked<Scalar>? = nil, k: Int = 0,
                      hooked: Set<ValueID> = [], hook: WeightHook? = nil, quadratic: QuadraticForms<Scalar>? = nil,
                      capturing captured: Captured<Scalar>? = nil)
        throws(ExecutionError) -> (adjoints: [Stacked<Scalar>?], tangentAdjoints: [Stacked<Scalar>?]) {
        var cot = [Stacked<Scalar>?](repeating: nil, count: graph.values.count)
        var tcot = [Stacked<Scalar>?](repeating: nil, count: graph.values.count)
        cot[graph.output.index] = seed
        tcot[graph.output.index] = tangentSeed
        for (i, node) in graph.nodes.enumerated().reversed() {
            let o = node.outputs[0].index
            guard need[o], let y = tape.values[o] else { continue }
            let g = cot[o], dg = tcot[o]
            if let captured, captured.values.contains(node.outputs[0]) {
                captured.tangentAdjoints[node.outputs[0]] = dg
                captured.adjoints[node.outputs[0]] = g
            }
            cot[o] = nil; tcot[o] = nil
            guard g != nil || dg != nil else { continue }
            var needIn = adjointsWanted(node, need, quadratic)
            let x = inputs(of: node, tape)
            if let hook, let g, node.inputs.count > 1, let w = node.inputs[1], hooked.contains(w) {
                try hook(i, node, x, g)
                needIn[1] = false
            }
            let quadraticConv = isQuadraticConv(node, quadratic)
            let quadraticProduct = isQuadraticProduct(node, quadratic)
            guard needIn.contains(true) || quadraticConv || quadraticProduct else { continue }
            if let g, needIn.contains(true) {
                let parts = try transpose(i, node, x, y, g, need: needIn, tape)
                accumulate(&cot, node, parts)
            }
            if let tangents {
                var parts: [Stacked<Scalar>?] = Array(repeating: nil, count: node.inputs.count)
                let ts = node.inputs.map { $0.flatMap { tangents[$0.index] } }
                if quadraticConv, let quadratic, let w = node.inputs[1] {
                    if dg != nil, quadratic.weightTerms[i] == nil, let v = ts[1] {
                        // conv(x, V) of a layer the tangent sweep did not keep it for: the same call, the same bits
                        quadratic.weightTerms[i] = convTangent(tape.geometry[i]!, x, y, [nil, v], k)
                    }
                    // the curvature term conv_transpose(y*, V) first: the data gradient of dg
                    // then adds it as its kernel stores
                    let curvature = quadratic.convForms(i, w, tape.geometry[i]!, x, ts, g, dg, needIn)
                    if let dg, needIn.contains(true) {
                        parts = convTranspose(tape.geometry[i]!, x, dg, needIn, addingData: curvature)
                    } else {
                        parts[0] = curvature
                    }
                } else if quadraticProduct, let quadratic {
                    parts = try productFormsReverse(i, node, x, y, ts, g, dg, need: needIn, k: k, tape, quadratic)
                } else {
                    if let dg, needIn.contains(true) { parts = try transpose(i, node, x, y, dg, need: needIn, tape) }
                    if let g, ts.contains(where: { $0 != nil }) {
                        // curvature terms add into the fresh transpose buffers where the op can
                        parts = try curvature(i, node, x, y, ts, g, need: needIn, k: k, tape, adding: parts)
                    }
                }
                accumulate(&tcot, node, parts)
            }
        }
        return (cot, tcot)
    }

    /// Whether the sweeps form this convolution's share of the quadratic forms from inner
    /// products instead of its weight's adjoint.
    func isQuadraticConv(_ node: Node, _ quadratic: QuadraticForms<Scalar>?) -> Bool {
        guard let quadratic, case .conv = node.op, let w = node.inputs[1] else { return false }
        return quadratic.layers.contains(w)
    }

    /// The node's inputs whose adjoints the reverse sweep forms: those `need` marks, but not the
    /// weight of a quadratic-forms convolution, Gemm or MatMul (its forms come from inner products).
    func adjointsWanted(_ node: Node, _ need: [Bool], _ quadratic: QuadraticForms<Scalar>?) -> [Bool] {
        var needIn = node.inputs.map { $0.map { need[$0.index] } ?? false }
        if isQuadraticConv(node, quadratic) || isQuadraticProduct(node, quadratic) { needIn[1] = false }
        return needIn
    }

    private func accumulate(_ list: inout [Stacked<Scalar>?], _ node: Node, _ parts: [Stacked<Scalar>?]) {
        for (v, part) in zip(node.inputs, parts) {
            guard let v, let part else { continue }
            if var existing = list[v.index] {
                list[v.index] = nil
                existing.add(part)
                list[v.index] = existing
            } else {
                list[v.index] = part
            }
        }
    }

    /// Checks that requested parameters exist; returns them as a set.
    func parameterSet(_ ids: [ValueID], what: String) throws(ExecutionError) -> Set<ValueID> {
        for id in ids where parameters[id] == nil {
            let name = id.index < graph.values.count ? graph.values[id.index].name : "\(id)"
            throw ExecutionError("\(what): '\(name)' is not an initializer of the model")
        }
        return Set(ids)
    }
}
