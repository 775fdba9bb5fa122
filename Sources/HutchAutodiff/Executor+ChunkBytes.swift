import HutchModel

extension Executor {
    /// The documented bound on the live bytes of one `hessianQuadraticForms` chunk at k directions
    /// (Protocols/README.md, "Memory"), for a batch of `batch` examples (a chunk holds at most
    /// `quadraticFormChunk`), from the graph's static value shapes: A + k·(K + T) + (4k + 2)·M with
    /// A every computed value once, K the inputs of the ops with curvature terms and the logits,
    /// T the outputs of the convolutions that keep conv(x, V) (more than
    /// `quadraticTermRecomputeUpTo` multiply-adds per output), M the largest value.
    /// `ChunkBytesTests` checks it against the pool's live bytes.
    public func quadraticFormChunkBytes(batch: Int, k: Int) -> Int {
        let examples = min(batch, Self.quadraticFormChunk)
        var bytes = [Int](repeating: 0, count: graph.values.count)
        for id in [graph.input] + graph.nodes.flatMap(\.outputs) where parameters[id] == nil {
            bytes[id.index] = graph.values[id.index].elementsPerExample * examples * MemoryLayout<Scalar>.stride
        }
        var kept = Set([graph.output.index])
        var terms = 0
        for node in graph.nodes where node.op.rule.hasCurvature {
            for v in node.inputs.compactMap({ $0 }) where bytes[v.index] > 0 { kept.insert(v.index) }
            if case .conv = node.op, let w = node.inputs[1].flatMap({ parameters[$0] }),
               w.shape.dropFirst().reduce(1, *) > quadraticTermRecomputeUpTo {
                terms += bytes[node.outputs[0].index]
            }
        }
        let tangents = kept.reduce(0) { $0 + bytes[$1] }
        return bytes.reduce(0, +) + k * (tangents + terms) + (4 * k + 2) * (bytes.max() ?? 0)
    }
}
