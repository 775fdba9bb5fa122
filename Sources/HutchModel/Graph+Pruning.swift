import HutchTensor

/// Removal of nodes the output does not depend on (dead branches an exporter left behind), with
/// values renumbered densely so that consumers can size per-value storage by `values.count`.
extension Graph {
    func pruned() -> Graph {
        var live = Set([output])
        var keptNodes: [Node] = []
        for node in nodes.reversed() where node.outputs.contains(where: live.contains) {
            keptNodes.append(node)
            for input in node.inputs { if let input { live.insert(input) } }
        }
        keptNodes.reverse()
        live.insert(input)
        var renumbered: [ValueID: ValueID] = [:]
        var keptValues: [Value] = []
        for (index, value) in values.enumerated() where live.contains(ValueID(index)) {
            renumbered[ValueID(index)] = ValueID(keptValues.count)
            keptValues.append(value)
        }
        func map(_ id: ValueID) -> ValueID { renumbered[id] ?? id }
        let remappedNodes = keptNodes.map { node in
            Node(name: node.name, op: node.op, inputs: node.inputs.map { $0.map(map) }, outputs: node.outputs.map(map))
        }
        var keptInitializers: [ValueID: Tensor<Float>] = [:]
        for (id, tensor) in initializers where live.contains(id) { keptInitializers[map(id)] = tensor }
        var graph = Graph(values: keptValues, nodes: remappedNodes, input: map(input), output: map(output), initializers: keptInitializers)
        graph.inputHoldsTokenIDs = inputHoldsTokenIDs
        graph.dataInputs = dataInputs
        return graph
    }
}
