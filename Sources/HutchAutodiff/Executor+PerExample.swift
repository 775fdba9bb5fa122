import HutchModel
import HutchTensor

/// Per-example gradient norms of quantizable weights and the exact (Gauss-Newton) traces built
/// from them (Protocols/README.md, "Exact mode").
extension Executor {
    /// For seeds s of shape [S, N, C] (output-space vectors per example), the squared norm of
    /// d(sum_c s[j, n, c] f_n,c)/dW for every quantizable weight W in `layers`, seed j and example
    /// n: result[W] has shape [S, N]. All seeds run as one stacked reverse pass (in chunks of at
    /// most `maxStackedExamples` examples) over one shared forward pass. The default fits
    /// ResNet-20's 9 seeds x 128 examples in one pass, so the im2col and position Grams of the
    /// norms are made once per example. The bits depend on the seeds, the examples and
    /// min(`seedStack`, maxStackedExamples / N) (the norm GEMMs' seed groups), not on the passes.
    @_specialize(exported: true, where Scalar == Float)
    public func perExampleGradientSquaredNorms(input: Tensor<Scalar>, seeds: Tensor<Scalar>, layers: [ValueID],
                                               maxStackedExamples: Int = 2048) throws(ExecutionError) -> [ValueID: Tensor<Scalar>] {
        let tape = try forwardTape(input)
        let logits = try outputValue(tape)
        guard seeds.rank == 3, seeds.shape[1] == logits.shape[0], seeds.shape[2] == logits.shape[1] else {
            throw ExecutionError("seeds: shape \(seeds.shape) should be [S, \(logits.shape[0]), \(logits.shape[1])]")
        }
        return try seeds.data.withUnsafeBufferPointer { (s) throws(ExecutionError) in
            try perExampleNorms(tape, seeds: s.baseAddress!, count: seeds.shape[0], layers: layers,
                                maxStackedExamples: maxStackedExamples)
        }
    }

    /// Bytes the stacked seeds of exact traces may take: a pass stacks (seeds × examples) copies
    /// of the network's activations, so passes hold at most this many bytes of them whatever the
    /// class count or the batch (e.g. 1000 classes at 224×224: 999 seeds are cut into passes).
    public static var exactStackBudgetBytes: Int { 4 << 30 }

    /// Stacked examples per pass of exact traces for this network: the budget over one example's
    /// activations (every value's elements but the batch), between 8 and 2048. Only speed and
    /// memory depend on it (`perExampleNorms` cuts passes without changing any bits).
    public func exactStackedExamples(budgetBytes: Int = exactStackBudgetBytes) -> Int {
        let perExample = graph.values.indices.reduce(0) { sum, i in
            guard parameters[ValueID(i)] == nil, let shape = graph.values[i].shape else { return sum }
            return sum + shape.dropFirst().reduce(1) { $0 * ($1 ?? 1) }
        }
        let bytes = max(1, perExample) * MemoryLayout<Scalar>.size
        return min(2048, max(8, budgetBytes / bytes))
    }

    /// Sum over the batch of the exact per-layer Hessian traces' terms,
    /// sum_i sum_c ||dW (A_i f_i)_c||^2 with A_i = diag(sqrt p_i)(I - 1 p_i^T), computed with the
    /// C - 1 seeds of `SoftmaxCrossEntropy.exactTraceSeeds` (the same sum): divide by the
    /// number of examples for Tr(H_ll) of the mean loss. Equal to the Hessian-block trace when the
    /// network is piecewise linear in each weight (else it is the Gauss-Newton trace).
    /// Labels do not enter: the cross-entropy Hessian in the logits does not depend on them.
    /// The seeds take (C - 1) C scalars per example, so the batch runs in groups of
    /// `exactSeedGroup` examples (one forward pass each, sums added in group order): at 1000
    /// classes that holds the seeds to 256 MiB however large the batch.
    @_specialize(exported: true, where Scalar == Float)
    public func exactHessianTraceSums(input: Tensor<Scalar>, layers: [ValueID], maxStackedExamples: Int? = nil,
                                      seedBudgetBytes: Int = exactSeedBudgetBytes) throws(ExecutionError) -> [ValueID: Double] {
        let n = input.shape.first ?? 0
        guard n > 1 else { return try exactHessianTraceSumsOfGroup(input, layers, maxStackedExamples) }
        let per = input.count / n
        let group = try seedGroupSize(for: input, budgetBytes: seedBudgetBytes)
        guard n > group else { return try exactHessianTraceSumsOfGroup(input, layers, maxStackedExamples) }
        var total = [ValueID: Double]()
        for start in stride(from: 0, to: n, by: group) {
            let count = min(group, n - start)
            let part = Tensor(shape: [count] + input.shape.dropFirst(), data: Array(input.data[(start * per)..<((start + count) * per)]))
            for (w, sum) in try exactHessianTraceSumsOfGroup(part, layers, maxStackedExamples) { total[w, default: 0] += sum }
        }
        return total
    }

    /// Bytes of exact-trace seeds held at once (`exactSeedGroup`). Fixed, not a machine's memory:
    /// the grouping changes the sums' rounding, and workers must agree bit for bit.
    public static var exactSeedBudgetBytes: Int { 256 << 20 }

    /// Examples whose (C - 1) x C seeds fit the budget, at least 1. 10 classes: 745,654;
    /// 1000 classes: 67.
    public static func exactSeedGroup(classes c: Int, budgetBytes: Int = exactSeedBudgetBytes) -> Int {
        guard c > 1 else { return .max }
        return max(1, budgetBytes / ((c - 1) * c * MemoryLayout<Scalar>.size))
    }

    private func exactHessianTraceSumsOfGroup(_ input: Tensor<Scalar>, _ layers: [ValueID],
                                              _ maxStackedExamples: Int?) throws(ExecutionError) -> [ValueID: Double] {
        let tape = try forwardTape(input)
        let logits = try outputValue(tape)
        guard logits.shape.count == 2 else {
            throw ExecutionError("exact traces are for classification logits [N, C]; the output has shape \(logits.shape): use --method hutchinson")
        }
        let (seeds, count) = SoftmaxCrossEntropy(logits: logits).exactTraceSeeds()
        let norms = try seeds.withUnsafeBufferPointer { (s) throws(ExecutionError) in
            try perExampleNorms(tape, seeds: s.baseAddress!, count: count, layers: layers,
                                maxStackedExamples: maxStackedExamples ?? exactStackedExamples())
        }
        return norms.mapValues { t in t.data.reduce(0.0) { $0 + Double($1) } }
    }

    /// Exact per-layer Hessian traces Tr(H_ll) of the mean loss over this batch (see
    /// `exactHessianTraceSums`).
    @_specialize(exported: true, where Scalar == Float)
    public func exactHessianTraces(input: Tensor<Scalar>, layers: [ValueID],
                                   maxStackedExamples: Int? = nil) throws(ExecutionError) -> [ValueID: Double] {
        let sums = try exactHessianTraceSums(input: input, layers: layers, maxStackedExamples: maxStackedExamples)
        let n = Double(input.shape[0])
        return sums.mapValues { $0 / n }
    }

    /// Seeds per GEMM of the convolution norms (`stack` of
    /// Kernels.conv2DPerExampleWeightGradientSquaredNorms): wider GEMMs pack the shared im2col once.
    static var seedStack: Int { 8 }

    /// With `independentSeeds`, each seed's norms are bit-identical whatever other seeds (and how
    /// many) share the call: one seed per norm GEMM and the convolution method chosen as for one
    /// seed (the sampled Gauss-Newton estimator cuts its samples into tasks freely).
    func perExampleNorms(_ tape: Tape<Scalar>, seeds: UnsafePointer<Scalar>, count s: Int, layers: [ValueID],
                         maxStackedExamples: Int, independentSeeds: Bool = false) throws(ExecutionError) -> [ValueID: Tensor<Scalar>] {
        let wanted = try parameterSet(layers, what: "per-example gradient norms")
        let quantizable = Set(quantizableWeights)
        for w in layers where !quantizable.contains(w) {
            throw ExecutionError("per-example gradient norms: '\(name(w))' is not the weight of a Conv, Gemm, MatMul or embedding layer")
        }
        let logits = try outputValue(tape)
        let n = tape.batch, c = logits.shape[1]
        var need = dependents(of: wanted)
        need[graph.output.index] = true
        var norms = [ValueID: [Scalar]]()
        for w in layers { norms[w] = [Scalar](repeating: 0, count: s * n) }
        // passes cut at multiples of the norm kernel's seed groups: no seed's bits depend on the cut
        let perPass = max(1, maxStackedExamples / max(n, 1))
        let stack = independentSeeds ? 1 : min(Self.seedStack, perPass)
        let chunk = s <= perPass ? s : perPass - perPass % stack
        let methodSeeds = independentSeeds ? 1 : s
        var s0 = 0
        while s0 < s {
            let m = min(chunk, s - s0)
            let seed = Stacked<Scalar>(shape: [n, c], blocks: m, zeroed: false)
            seed.pointer.update(from: seeds + s0 * n * c, count: m * n * c)
            _ = try reverseSweep(tape, need: need, seed: seed, hooked: wanted) { (_, node, x, cot) throws(ExecutionError) in
                let w = node.inputs[1]!
                let values = try layerNorms(node, x, cot, tape, seedCount: methodSeeds, stack: stack)
                norms[w]!.withUnsafeMutableBufferPointer { out in
                    for j in 0..<(m * n) { out[s0 * n + j] += values[j] }
                }
            }
            s0 += m
        }
        var result = [ValueID: Tensor<Scalar>]()
        for (w, v) in norms { result[w] = Tensor(shape: [s, n], data: v) }
        return result
    }

    /// Squared norms of per-example weight gradients of one layer for m stacked seeds: [m * N].
    /// A convolution's method is chosen from all `seedCount` seeds, not the m of this pass, so
    /// that every seed's bits are the same however the seeds are cut into passes; `stack` seeds
    /// share a norm GEMM.
    func layerNorms(_ node: Node, _ x: [Stacked<Scalar>?], _ cot: Stacked<Scalar>,
                    _ tape: Tape<Scalar>, seedCount: Int, stack: Int) throws(ExecutionError) -> [Scalar] {
        let n = tape.batch, m = cot.blocks
        let input = x[0]!
        var out = [Scalar](repeating: 0, count: m * n)
        switch node.op {
        case .conv(let a):
            let g = try shaped(node) { () throws(ShapeError) in
                try ConvGeometry(input: input.shape, weight: x[1]!.shape, strides: a.strides, pads: a.pads,
                                 dilations: a.dilations, group: a.group)
            }
            guard g.batch == n else { throw ExecutionError.node(node, "input batch \(g.batch) is not the example count \(n)") }
            out.withUnsafeMutableBufferPointer {
                Kernels.conv2DPerExampleWeightGradientSquaredNorms(
                    g, blocks: m, x: input.pointer, dy: cot.pointer, norms: $0.baseAddress!,
                    method: Kernels.gramIsCheaper(g, blocks: seedCount) ? .gram : .materialized, stack: stack)
            }
        case .gemm(let a):
            // dW_n = alpha * g_n a_n^T (or its transpose): ||dW_n||^2 = alpha^2 ||g_n||^2 ||a_n||^2
            let s = try gemmShape(node, a, x)
            guard s.m == n else { throw ExecutionError.node(node, "has \(s.m) rows, not one per example (\(n))") }
            let alpha2 = Scalar(a.alpha) * Scalar(a.alpha)
            var rowNorm = [Scalar](repeating: 0, count: n)
            for i in 0..<n {
                var acc: Scalar = 0
                for kk in 0..<s.k {
                    let v = a.transA ? input.pointer[kk * s.m + i] : input.pointer[i * s.k + kk]
                    acc += v * v
                }
                rowNorm[i] = acc
            }
            for j in 0..<m {
                let gb = cot.block(j)
                for i in 0..<n {
                    var acc: Scalar = 0
                    for c in 0..<s.n { acc += gb[i * s.n + c] * gb[i * s.n + c] }
                    out[j * n + i] = alpha2 * acc * rowNorm[i]
                }
            }
        case .matMul:
            let (sa, sb) = (input.shape, x[1]!.shape)
            guard sb.count == 2, sa.count >= 2, sa[0] == n else {
                throw ExecutionError.node(node, "per-example norms need a [N, ..., K] input and a [K, M] weight, got \(sa) and \(sb)")
            }
            let (kk, mm) = (sb[0], sb[1])
            let rows = sa.dropFirst().dropLast().reduce(1, *)   // rows per example
            let prod = Stacked<Scalar>(shape: [kk, mm], zeroed: false)
            for j in 0..<m {
                for i in 0..<n {
                    let ai = input.pointer + i * rows * kk, gi = cot.block(j) + i * rows * mm
                    Kernels.gemm(transA: true, transB: false, m: kk, n: mm, k: rows, alpha: 1, a: ai, lda: kk,
                                b: gi, ldb: mm, beta: 0, c: prod.pointer, ldc: mm)
                    var acc: Scalar = 0
                    for e in 0..<(kk * mm) { acc += prod.pointer[e] * prod.pointer[e] }
                    out[j * n + i] = acc
                }
            }
        case .embedding:
            out = try embeddingPerExampleNorms(node, x, cot, examples: n)
        default:
            throw ExecutionError.node(node, "is not a quantizable layer")
        }
        return out
    }
}
