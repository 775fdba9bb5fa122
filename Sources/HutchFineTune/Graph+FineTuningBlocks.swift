import HutchModel
import HutchSensitivity

extension Graph {
    /// HAWQ-V1's fine-tuning blocks: a partition of the quantizable layers (canonical indices,
    /// each block ascending, blocks ordered by their first layer). A residual block is the
    /// layers of a residual join's branches: for an Add whose two inputs both depend on the
    /// network input, the layers that are ancestors of one input but not of the other (its
    /// branch and its shortcut, up to the fork where they split). Adds with no layer in their
    /// branches (LayerNorm's centring) make no block; a layer in nested joins belongs to the
    /// first join in node order. Tie groups are kept together; every other layer is alone.
    public var fineTuningBlocks: [[Int]] {
        let layers = quantizableLayers
        var blockOf = [Int?](repeating: nil, count: layers.count)
        var blockCount = 0
        var layerOfNode: [Int: Int] = [:]
        for (l, layer) in layers.enumerated() { layerOfNode[layer.nodeIndex] = l }
        let ancestry = NodeAncestry(self)
        for node in nodes {
            guard case .add = node.op, node.inputs.count == 2, let a = node.inputs[0], let b = node.inputs[1],
                  ancestry.dependsOnInput(a), ancestry.dependsOnInput(b) else { continue }
            let branches = ancestry.nodes(before: a).symmetricDifference(ancestry.nodes(before: b))
            let members = branches.compactMap { layerOfNode[$0] }.filter { blockOf[$0] == nil }
            guard !members.isEmpty else { continue }
            for l in members { blockOf[l] = blockCount }
            blockCount += 1
        }
        // A tie group's layers share one block (the tie's Add is a join, so they normally do already).
        var blockOfGroup: [String: Int] = [:]
        for (l, group) in tieGroups.enumerated() {
            guard let group else { continue }
            let b = blockOf[l] ?? blockOfGroup[group] ?? { blockCount += 1; return blockCount - 1 }()
            let other = blockOfGroup[group] ?? b
            for k in blockOf.indices where k == l || (blockOf[k] != nil && blockOf[k] == other) { blockOf[k] = b }
            for (g, v) in blockOfGroup where v == other { blockOfGroup[g] = b }
            blockOfGroup[group] = b
        }
        var blocks: [[Int]] = []
        var position: [Int: Int] = [:]
        for l in layers.indices {
            guard let b = blockOf[l] else { blocks.append([l]); continue }
            if let p = position[b] { blocks[p].append(l) } else { position[b] = blocks.count; blocks.append([l]) }
        }
        return blocks
    }
}

/// Which nodes lie before each value (its transitive producers) and which values depend on the
/// network input, for finding residual branches.
private struct NodeAncestry {
    private var before: [Set<Int>]
    private var producer: [Int: Int] = [:]
    private var fromInput: Set<Int>

    init(_ graph: Graph) {
        before = []
        before.reserveCapacity(graph.nodes.count)
        fromInput = [graph.input.index]
        for (i, node) in graph.nodes.enumerated() {
            var set = Set<Int>()
            var dependent = false
            for case let x? in node.inputs {
                if let p = producer[x.index] { set.formUnion(before[p]); set.insert(p) }
                dependent = dependent || fromInput.contains(x.index)
            }
            before.append(set)
            for o in node.outputs {
                producer[o.index] = i
                if dependent { fromInput.insert(o.index) }
            }
        }
    }

    func dependsOnInput(_ v: ValueID) -> Bool { fromInput.contains(v.index) }

    /// The nodes that v's value is computed from, including its producer.
    func nodes(before v: ValueID) -> Set<Int> {
        guard let p = producer[v.index] else { return [] }
        return before[p].union([p])
    }
}
