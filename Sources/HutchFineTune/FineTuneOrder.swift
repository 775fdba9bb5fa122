/// In which stages the layers are quantized. `all`: one stage with every layer. `hessian`
/// (HAWQ-V1): blocks (`Graph.fineTuningBlocks`: residual blocks, tie groups, other layers
/// alone) most sensitive first; stage s quantizes block s and fine-tunes everything quantized
/// so far.
public enum FineTuneOrder: String, Sendable, CaseIterable {
    case hessian
    case all

    /// How a block's sensitivity comes from its layers'.
    public enum BlockRanking: Sendable {
        /// The block's Hessian trace per parameter: Σ trace_l / Σ n_l, from each layer's trace
        /// per parameter weighted by its parameter count n_l.
        case tracePerParameter(parameterCounts: [Int])
        /// The largest top eigenvalue among its layers (a lower bound of the block's own).
        case topEigenvalue
    }

    /// The layers (canonical indices) newly quantized at each stage: `blocks` ranked by their
    /// sensitivity, largest first; ties keep the blocks' order.
    public static func stages(_ order: FineTuneOrder, sensitivity: [Double], blocks: [[Int]], ranking: BlockRanking) -> [[Int]] {
        let count = sensitivity.count
        guard order == .hessian else { return count == 0 ? [] : [Array(0..<count)] }
        let key = blocks.map { blockSensitivity(of: $0, layers: sensitivity, ranking: ranking) }
        return blocks.indices.sorted { key[$0] != key[$1] ? key[$0] > key[$1] : $0 < $1 }.map { blocks[$0] }
    }

    /// A block's sensitivity from its layers' (`BlockRanking`).
    public static func blockSensitivity(of block: [Int], layers sensitivity: [Double], ranking: BlockRanking) -> Double {
        switch ranking {
        case .topEigenvalue:
            return block.map { sensitivity[$0] }.max() ?? 0
        case .tracePerParameter(let n):
            let parameters = block.reduce(0) { $0 + n[$1] }
            return parameters == 0 ? 0 : block.reduce(0) { $0 + sensitivity[$1] * Double(n[$1]) } / Double(parameters)
        }
    }
}
