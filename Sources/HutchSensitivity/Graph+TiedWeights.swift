import HutchModel
import HutchTensor

extension Graph {
    /// Layers that hold one weight (tie_group rule, Protocols/README.md): readers of one
    /// initializer, and an embedding table with the layer holding the same values along the same
    /// channels, as exporters write GPT-2's language-model head tied to its token embedding (a
    /// transposed copy of the table). Each set lists layer indices, smallest first, in order.
    func tiedWeights() -> [[Int]] {
        let layers = quantizableLayers
        var root = Array(layers.indices)
        func find(_ l: Int) -> Int { root[l] == l ? l : find(root[l]) }
        for (l, layer) in layers.enumerated() {
            for (m, other) in layers.enumerated() where m > l {
                guard other.weight == layer.weight || holdsTable(layer, other) || holdsTable(other, layer) else { continue }
                let (a, b) = (find(l), find(m))
                root[max(a, b)] = min(a, b)
            }
        }
        let members = Dictionary(grouping: layers.indices, by: find)
        return members.values.filter { $0.count > 1 }.sorted { $0[0] < $1[0] }
    }

    /// Whether `table` is an embedding and `other` holds its values with one channel per row.
    private func holdsTable(_ table: QuantizableLayer, _ other: QuantizableLayer) -> Bool {
        guard !table.readsActivation, table.weight != other.weight, let t = initializers[table.weight],
              let w = initializers[other.weight], t.rank == 2, w.rank == 2 else { return false }
        let (rows, width) = (t.shape[0], t.shape[1])
        switch other.outputChannelAxis(in: self) {
        case 0: return w.shape == t.shape && w.data == t.data
        case 1:
            guard w.shape == [width, rows] else { return false }
            for r in 0..<rows { for c in 0..<width where w.data[c * rows + r] != t.data[r * width + c] { return false } }
            return true
        default: return false
        }
    }
}
