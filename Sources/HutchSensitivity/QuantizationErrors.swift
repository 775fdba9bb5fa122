import HutchModel
import HutchQuantize
import HutchTensor

/// ||Q_b(W_l) - W_l||^2 per layer and width under HAWQ-V3's weight scheme: symmetric, per output
/// channel, min-max.
public enum QuantizationErrors {
    public static let scheme = "symmetric_per_channel_minmax"

    /// Errors for every layer (canonical order) and width in `bits`.
    public static func compute(_ graph: Graph, bits: [Int]) throws -> [[Int: Double]] {
        try graph.quantizableLayers.map { try compute(graph, layer: $0, bits: bits) }
    }

    /// Errors of one layer (a unit of work of its own: pure, depends only on the weight).
    public static func compute(_ graph: Graph, layer: QuantizableLayer, bits: [Int]) throws -> [Int: Double] {
        guard let weight = graph.initializers[layer.weight] else {
            throw SensitivityError(.invalidJob, "layer '\(layer.nodeName)': weight '\(layer.weightName)' is not an initializer")
        }
        let config = WeightQuantizerConfig(scheme: .symmetric, granularity: .perChannel(axis: layer.outputChannelAxis(in: graph)),
                                           range: .minMax)
        do {
            return try WeightQuantizer.squaredErrors(weight, bits: bits, config: config)
        } catch {
            throw SensitivityError(.invalidJob, "layer '\(layer.nodeName)': cannot quantize weight '\(layer.weightName)': \(error)")
        }
    }
}
