import HutchModel

/// HAWQ-V3 integer-only requantization of one layer: per output channel c, the accumulator of
/// input codes times weight codes is brought to the output's codes by M_c = S_w[c] · S_in / S_out,
/// applied as the dyadic numerator / 2^shift. S_out is the scale of the layer's own output,
/// calibrated at the layer's activation width.
public struct LayerRequantization: Sendable, Equatable {
    public var node: String
    public var weight: String
    public var inputScale: Float
    public var inputZeroPoint: Int32
    public var outputScale: Float
    public var outputZeroPoint: Int32
    public var weightScales: [Float]
    public var multipliers: [Double]
    /// nil where M_c is outside what an int32 dyadic holds (e.g. an all-zero channel).
    public var dyadic: [DyadicMultiplier?]
}

extension QuantizedModel {
    /// One entry per layer in canonical order; empty for a weights-only model (no S_in, S_out).
    public func requantization() -> [LayerRequantization] {
        guard !weightsOnly else { return [] }
        return layers.compactMap { layer -> LayerRequantization? in
            guard let input = input(ofLayer: layer.index), let output = outputs[layer.index] else { return nil }
            let multipliers = layer.weight.scales.map { Double($0) * Double(input.parameters.scale) / Double(output.parameters.scale) }
            return LayerRequantization(
                node: layer.node, weight: layer.weightName,
                inputScale: input.parameters.scale, inputZeroPoint: input.parameters.zeroPoint,
                outputScale: output.parameters.scale, outputZeroPoint: output.parameters.zeroPoint,
                weightScales: layer.weight.scales, multipliers: multipliers,
                dyadic: multipliers.map { try? DyadicMultiplier($0) })
        }
    }
}
