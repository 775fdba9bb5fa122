import HutchModel

extension Executor {
    /// The documented bound on the live bytes of one `hessianQuadraticForms` chunk at k directions
    /// (Protocols/README.md, "Memory"), for a batch of `batch` examples (a chunk holds at most
    /// `quadraticFormChunk`), from the graph's static value shapes: A + k·(K + T) + R + 2·M with
    /// A every computed value once, K the inputs of the ops with curvature terms and the logits,
    /// T the outputs of the convolutions that keep conv(x, V) (more than
    /// `quadraticTermRecomputeUpTo` multiply-adds per output), R the reverse sweep's adjoints at
    /// their most (`reverseAdjointBytes`) and M the largest value (kernel scratch).
    /// `ChunkBytesTests` checks it against the pool's live bytes.
    public func quadraticFormChunkBytes(batch: Int, k: Int) -> Int {
        let bytes = chunkValueBytes(batch: batch)
        let terms = graph.nodes.filter(keepsWeightTerm).reduce(0) { $0 + bytes[$1.outputs[0].index] }
        let tangents = keptTangentBytes(bytes)
        let adjoints = reverseAdjointBytes(bytes, k: k, sources: Set(quantizableWeights))
        return bytes.reduce(0, +) + k * (tangents + terms) + adjoints + 2 * (bytes.max() ?? 0)
    }

    /// The same bound for one chunk of `activationQuadraticForms` with directions on `values`:
    /// A + k·(K + 2·V) + R + 2·M, V the directed values (their directions, and the adjoints'
    /// tangents captured as the reverse sweep passes them), R from the values that depend on them,
    /// no conv(x, V) terms. `ChunkBytesTests` checks it against the pool's live bytes.
    public func activationFormChunkBytes(batch: Int, k: Int, values: [ValueID]) -> Int {
        let bytes = chunkValueBytes(batch: batch)
        let tangents = keptTangentBytes(bytes)
        let directed = Set(values.map(\.index)).reduce(0) { $0 + bytes[$1] }
        let adjoints = reverseAdjointBytes(bytes, k: k, sources: Set(values))
        return bytes.reduce(0, +) + k * (tangents + 2 * directed) + adjoints + 2 * (bytes.max() ?? 0)
    }

    /// Each computed value's bytes for one chunk (one block; parameters 0).
    private func chunkValueBytes(batch: Int) -> [Int] {
        let examples = min(batch, Self.quadraticFormChunk)
        var bytes = [Int](repeating: 0, count: graph.values.count)
        for id in [graph.input] + graph.nodes.flatMap(\.outputs) where parameters[id] == nil {
            bytes[id.index] = graph.values[id.index].elementsPerExample * examples * MemoryLayout<Scalar>.stride
        }
        return bytes
    }

    /// K: the bytes of the logits and of the inputs of the ops with curvature terms, whose
    /// tangents the tangent sweep keeps for the reverse sweep.
    private func keptTangentBytes(_ bytes: [Int]) -> Int {
        var kept = Set([graph.output.index])
        for node in graph.nodes where node.op.rule.hasCurvature {
            for v in node.inputs.compactMap({ $0 }) where bytes[v.index] > 0 { kept.insert(v.index) }
        }
        return kept.reduce(0) { $0 + bytes[$1] }
    }

    /// The most bytes the reverse sweep's adjoints hold at once, from `bytes` (each computed
    /// value's bytes, one block): at each node, 1 + k blocks (the adjoint and its k tangents) of
    /// every value whose adjoint waits for its producer and of the node's output being read, and
    /// 1 + 3k blocks of each input it forms an adjoint for (the adjoint, and the tangents' linear
    /// part, curvature part and their sum, as a Mul forms them), plus the
    /// k blocks of conv(x, V) a convolution that does not keep it recomputes (f(x, V) of a Gemm or
    /// MatMul layer: always, Executor+ProductForms.swift). Values that depend
    /// on none of `sources` (the directed weights or activations) get no adjoint. A fixed multiple
    /// of the largest value fell short where several large values wait at once (squeeze-and-
    /// excitation, SiLU).
    func reverseAdjointBytes(_ bytes: [Int], k: Int, sources: Set<ValueID>) -> Int {
        let need = dependents(of: sources)
        var waiting = Array(repeating: false, count: graph.values.count)
        waiting[graph.output.index] = true
        var waitingBytes = bytes[graph.output.index], most = 0
        for node in graph.nodes.reversed() {
            let o = node.outputs[0].index
            guard waiting[o] else { continue }
            waiting[o] = false
            waitingBytes -= bytes[o]
            let adjoined = node.inputs.compactMap { $0?.index }.filter { need[$0] && bytes[$0] > 0 }
            let fresh = adjoined.reduce(0) { $0 + bytes[$1] }
            let recomputed = (isLayerConv(node) && !keepsWeightTerm(node)) || isWeightProduct(node) ? k * bytes[o] : 0
            most = max(most, (1 + k) * (waitingBytes + bytes[o]) + (1 + 3 * k) * fresh + recomputed)
            for v in adjoined where !waiting[v] {
                waiting[v] = true
                waitingBytes += bytes[v]
            }
        }
        return most
    }

    /// Whether `node` is a convolution of a quantizable weight.
    private func isLayerConv(_ node: Node) -> Bool {
        guard case .conv = node.op, let w = node.inputs[1] else { return false }
        return parameters[w] != nil
    }

    /// Whether the tangent sweep keeps this convolution's conv(x, V) for the reverse sweep
    /// (`QuadraticForms.keepsTerm`: more than `quadraticTermRecomputeUpTo` multiply-adds per output).
    private func keepsWeightTerm(_ node: Node) -> Bool {
        guard isLayerConv(node), let w = node.inputs[1].flatMap({ parameters[$0] }) else { return false }
        return w.shape.dropFirst().reduce(1, *) > quadraticTermRecomputeUpTo
    }
}
