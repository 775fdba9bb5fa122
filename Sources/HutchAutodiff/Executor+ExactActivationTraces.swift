import HutchModel
import HutchTensor

/// Exact activation traces (Protocols/README.md, "Activation sensitivity"): exact mode's seed
/// trick applied to activations instead of weights.
extension Executor {
    /// Sum over the batch's examples of Tr(d^2 L_i / d a_i^2) for each activation in `values`,
    /// where the network is piecewise linear between a and the logits: there the Hessian is
    /// J_a^T A_i^T A_i J_a, so the trace is sum_k ||J_a^T b_k||^2 over the C - 1 seeds b_k of
    /// `SoftmaxCrossEntropy.exactTraceSeeds` (one reverse pass each, read at every activation at
    /// once). Divide by the examples for the mean over them. Elsewhere it is the Gauss-Newton
    /// trace. Seeds run stacked, at most `maxStackedExamples` (seeds x examples) per pass, in
    /// seed order; every adjoint's squares are summed in Double in that order, so the bits do not
    /// depend on how the seeds are cut into passes.
    @_specialize(exported: true, where Scalar == Float)
    public func exactActivationTraceSums(input: Tensor<Scalar>, values: [ValueID],
                                         maxStackedExamples: Int) throws(ExecutionError) -> [ValueID: Double] {
        let n = input.shape.first ?? 0
        var total = [ValueID: Double]()
        for id in values { total[id] = 0 }
        let per = n > 0 ? input.count / n : 0
        let group = n > 1 ? try seedGroupSize(for: input) : max(n, 1)
        for start in stride(from: 0, to: n, by: group) {
            let count = min(group, n - start)
            let part = count == n ? input
                : Tensor(shape: [count] + input.shape.dropFirst(), data: Array(input.data[(start * per)..<((start + count) * per)]))
            try addExactActivationSquares(part, values, maxStackedExamples, into: &total)
        }
        return total
    }

    /// Examples per seed group of exact traces (`exactSeedGroup(classes:)`) for this input: the
    /// class count from the graph, else from one example's logits.
    func seedGroupSize(for input: Tensor<Scalar>, budgetBytes: Int = exactSeedBudgetBytes) throws(ExecutionError) -> Int {
        var classes = graph.classCount ?? 0
        if classes == 0 {
            let per = input.count / max(input.shape[0], 1)
            classes = try logits(Tensor(shape: [1] + input.shape.dropFirst(), data: Array(input.data[0..<per]))).shape[1]
        }
        return Self.exactSeedGroup(classes: classes, budgetBytes: budgetBytes)
    }

    private func addExactActivationSquares(_ input: Tensor<Scalar>, _ values: [ValueID], _ maxStackedExamples: Int,
                                           into total: inout [ValueID: Double]) throws(ExecutionError) {
        let tape = try forwardTape(input)
        let logits = try outputValue(tape)
        for id in values where id.index >= graph.values.count || tape.values[id.index] == nil {
            throw ExecutionError("exact activation traces: '\(name(id))' is not computed by the model")
        }
        let (seeds, s) = SoftmaxCrossEntropy(logits: logits).exactTraceSeeds()
        let n = tape.batch, c = logits.shape[1]
        var need = dependents(of: Set(values))
        need[graph.output.index] = true
        let chunk = max(1, maxStackedExamples / max(n, 1))
        var s0 = 0
        while s0 < s {
            let m = min(chunk, s - s0)
            let seed = Stacked<Scalar>(shape: [n, c], blocks: m, zeroed: false)
            seeds.withUnsafeBufferPointer { seed.pointer.update(from: $0.baseAddress! + s0 * n * c, count: m * n * c) }
            let captured = Captured<Scalar>(Set(values))
            let (adjoints, _) = try reverseSweep(tape, need: need, seed: seed, capturing: captured)
            for id in values {
                // a graph input has no producer: its adjoint is what the sweep leaves
                guard let adjoint = captured.adjoints[id] ?? adjoints[id.index] else { continue }
                var sum = total[id] ?? 0
                for j in 0..<m {
                    let block = adjoint.block(j)
                    for e in 0..<adjoint.blockCount { sum += Double(block[e]) * Double(block[e]) }
                }
                total[id] = sum
            }
            s0 += m
        }
    }
}
