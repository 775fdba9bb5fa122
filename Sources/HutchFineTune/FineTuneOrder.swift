/// In which stages the layers are quantized. `all`: one stage with every layer. `hessian`
/// (HAWQ-V1): blocks — a tie group's layers together, other layers alone — most sensitive first
/// (by trace per parameter, or by top eigenvalue); stage s quantizes block s and fine-tunes
/// everything quantized so far.
public enum FineTuneOrder: String, Sendable, CaseIterable {
    case hessian
    case all

    /// The layers (canonical indices) newly quantized at each stage. Blocks are ranked by the
    /// largest sensitivity among their layers; ties keep canonical order.
    public static func stages(_ order: FineTuneOrder, sensitivity: [Double], tieGroups: [String?]) -> [[Int]] {
        let count = sensitivity.count
        guard order == .hessian else { return count == 0 ? [] : [Array(0..<count)] }
        var blocks: [[Int]] = []
        var blockOfGroup: [String: Int] = [:]
        for layer in 0..<count {
            if let group = tieGroups.indices.contains(layer) ? tieGroups[layer] : nil {
                if let b = blockOfGroup[group] { blocks[b].append(layer); continue }
                blockOfGroup[group] = blocks.count
            }
            blocks.append([layer])
        }
        let key = blocks.map { block in block.map { sensitivity[$0] }.max() ?? 0 }
        return blocks.indices.sorted { key[$0] != key[$1] ? key[$0] > key[$1] : $0 < $1 }.map { blocks[$0] }
    }
}
