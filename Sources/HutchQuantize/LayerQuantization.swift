import HutchModel
import HutchTensor

/// One independent unit of work: quantize one layer's weight to one width. A task depends only
/// on its own fields, so any worker may run any group of tasks in any order.
public struct LayerQuantizationTask: Sendable, Equatable {
    /// Canonical layer index (`Graph.quantizableLayers` order).
    public var index: Int
    public var node: String
    public var weightName: String
    public var weight: Tensor<Float>
    public var bits: Int
    public var config: WeightQuantizerConfig

    public init(index: Int, node: String, weightName: String, weight: Tensor<Float>, bits: Int, config: WeightQuantizerConfig) {
        self.index = index
        self.node = node
        self.weightName = weightName
        self.weight = weight
        self.bits = bits
        self.config = config
    }

    public func run() throws(ExportError) -> QuantizedLayer {
        do {
            return QuantizedLayer(index: index, node: node, weightName: weightName,
                                  weight: try WeightQuantizer.quantize(weight, bits: bits, config: config))
        } catch {
            throw ExportError(.model, "layer '\(node)' (weight '\(weightName)'): \(error)")
        }
    }
}

/// A task's result: the layer's codes, scales and zero points.
public struct QuantizedLayer: Sendable, Equatable {
    public var index: Int
    public var node: String
    public var weightName: String
    public var weight: QuantizedTensor

    public init(index: Int, node: String, weightName: String, weight: QuantizedTensor) {
        self.index = index
        self.node = node
        self.weightName = weightName
        self.weight = weight
    }
}

extension QuantizedLayer {
    /// Puts results of any grouping back together in canonical order. Each of the `expected`
    /// layer indices must appear exactly once; anything else is an error, never a silent pick.
    public static func assemble(_ groups: [[QuantizedLayer]], expected: Int) throws(ExportError) -> [QuantizedLayer] {
        var slots = [QuantizedLayer?](repeating: nil, count: expected)
        for layer in groups.joined() {
            guard layer.index >= 0, layer.index < expected else {
                throw ExportError(.plan, "quantized layer '\(layer.node)' has index \(layer.index) outside 0..<\(expected)")
            }
            guard slots[layer.index] == nil else {
                throw ExportError(.plan, "layer '\(layer.node)' (index \(layer.index)) was quantized twice")
            }
            slots[layer.index] = layer
        }
        var result: [QuantizedLayer] = []
        for (index, slot) in slots.enumerated() {
            guard let slot else { throw ExportError(.plan, "layer index \(index) has no quantized result") }
            result.append(slot)
        }
        return result
    }
}
