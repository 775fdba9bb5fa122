import HutchModel

extension QDQExporter {
    /// Cuts the float computation of weights the loader folded from initializers, now that a
    /// DequantizeLinear produces each of `names`: the producing node's output is renamed away
    /// (`NAME_hutch_float`), then every node of those chains whose outputs nothing reads any more
    /// goes, and so does each initializer only they read. A table another node still reads (the
    /// embedding Gather of a tied GPT-2 head) stays, so every reader sees what Hutch evaluated.
    static func detachComputedWeights(_ names: Set<String>, from graph: inout ONNXGraphProto) {
        var candidates = Set<Int>()
        for index in graph.nodes.indices {
            for (k, output) in graph.nodes[index].outputs.enumerated() where names.contains(output) {
                graph.nodes[index].outputs[k] = output + "_hutch_float"
                candidates.insert(index)
            }
        }
        var removed = Set<Int>()
        var orphans = Set<String>()   // inputs of removed nodes: initializers to drop if unread
        while true {
            var read = Set(graph.outputs.map(\.name))
            for (index, node) in graph.nodes.enumerated() where !removed.contains(index) { read.formUnion(node.inputs) }
            let dead = candidates.filter { !removed.contains($0) && !graph.nodes[$0].outputs.contains(where: read.contains) }
            if dead.isEmpty { break }
            for index in dead {
                removed.insert(index)
                let inputs = Set(graph.nodes[index].inputs)
                orphans.formUnion(inputs)
                for (producer, node) in graph.nodes.enumerated() where node.outputs.contains(where: inputs.contains) {
                    candidates.insert(producer)
                }
            }
        }
        var read = Set(graph.outputs.map(\.name))
        for (index, node) in graph.nodes.enumerated() where !removed.contains(index) { read.formUnion(node.inputs) }
        let unread = Set(graph.initializers.map(\.name)).intersection(orphans.subtracting(read))
        graph.nodes = graph.nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
        graph.initializers.removeAll { unread.contains($0.name) }
        graph.inputs.removeAll { unread.contains($0.name) }   // old files list initializers as inputs too
    }
}
