import HutchModel

extension Graph {
    /// tie_group per quantizable layer (Protocols/README.md): for every Add node whose two inputs
    /// are produced directly (through at most BatchNormalization / Identity) by two quantizable
    /// Conv nodes, one of them a 1x1 convolution, both get the Add node's name; layers holding one
    /// weight (`tiedWeights`) get their first layer's node name.
    public var tieGroups: [String?] {
        let layers = quantizableLayers
        var layerOfNode: [Int: Int] = [:]
        for (l, layer) in layers.enumerated() { layerOfNode[layer.nodeIndex] = l }
        var producer: [Int: Int] = [:]
        for (i, node) in nodes.enumerated() { for o in node.outputs { producer[o.index] = i } }
        /// The quantizable Conv layer that produces v, looking through BN and Identity.
        func convLayer(_ v: ValueID) -> Int? {
            var current = v
            while let i = producer[current.index] {
                switch nodes[i].op {
                case .batchNormalization, .identity:
                    guard let x = nodes[i].inputs.first ?? nil else { return nil }
                    current = x
                case .conv:
                    return layerOfNode[i]
                default:
                    return nil
                }
            }
            return nil
        }
        var groups = [String?](repeating: nil, count: layers.count)
        for node in nodes {
            guard case .add = node.op, node.inputs.count == 2, let a = node.inputs[0], let b = node.inputs[1],
                  let la = convLayer(a), let lb = convLayer(b), la != lb else { continue }
            let isPointwise = { (l: Int) in layers[l].shape.count >= 3 && layers[l].shape.dropFirst(2).allSatisfy { $0 == 1 } }
            guard isPointwise(la) || isPointwise(lb) else { continue }
            groups[la] = node.name
            groups[lb] = node.name
        }
        for members in tiedWeights() { for l in members { groups[l] = layers[members[0]].nodeName } }
        return groups
    }
}
