import HutchModel
import HutchTensor

/// Widths the plan gives one layer.
public struct LayerWidths: Sendable, Equatable {
    public var weightBits: Int
    public var activationBits: Int
    public init(weightBits: Int, activationBits: Int = 8) {
        self.weightBits = weightBits
        self.activationBits = activationBits
    }
}

/// The quantization of one activation tensor (per tensor, unsigned codes [0, 2^b - 1]).
public struct ActivationQuantization: Sendable, Equatable {
    public var value: ValueID
    public var name: String
    public var bits: Int
    public var range: ActivationRange
    public var grid: QuantizationGrid
    public var parameters: AffineParameters
}

/// A model with every quantizable layer quantized: the float graph it came from, the layers'
/// codes in canonical order, and (unless weights-only) the quantization of each quantized
/// layer's data input and of its output (the S_out of the requantization scale).
public struct QuantizedModel: Sendable {
    public var graph: Graph
    public var layers: [QuantizedLayer]
    /// Data inputs of quantized layers; a tensor feeding several layers has one entry.
    public var inputs: [ActivationQuantization]
    /// Output activation of each layer by canonical index (empty when weights-only).
    public var outputs: [Int: ActivationQuantization]

    public var weightsOnly: Bool { inputs.isEmpty }

    public init(graph: Graph, layers: [QuantizedLayer], inputs: [ActivationQuantization], outputs: [Int: ActivationQuantization]) {
        self.graph = graph
        self.layers = layers
        self.inputs = inputs
        self.outputs = outputs
    }

    /// The quantization of the data input of layer `index`, if activations are quantized.
    public func input(ofLayer index: Int) -> ActivationQuantization? {
        let layer = graph.quantizableLayers[index]
        guard let id = graph.nodes[layer.nodeIndex].inputs[0] else { return nil }
        return inputs.first { $0.value == id }
    }
}
