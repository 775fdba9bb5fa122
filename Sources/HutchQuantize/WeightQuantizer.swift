import HutchTensor

/// Weight quantization: codes for one width, and the squared quantization error for many.
/// Pure and deterministic: the result depends only on the weight, width and config.
public enum WeightQuantizer {
    /// Quantizes `weight` to `bits` under `config`.
    public static func quantize(_ weight: Tensor<Float>, bits: Int,
                                config: WeightQuantizerConfig = .init()) throws(QuantizerError) -> QuantizedTensor {
        let grid = try QuantizationGrid(scheme: config.scheme, bits: bits)
        try config.range.validate()
        let layout = try ChannelLayout(shape: weight.shape, granularity: config.granularity)
        try requireFinite(weight.data)

        var codes = [Int32](repeating: 0, count: weight.count)
        var parameters: [AffineParameters] = []
        parameters.reserveCapacity(layout.channels)
        var values: [Float] = []
        var channelCodes: [Int32] = []
        for c in 0..<layout.channels {
            layout.gather(weight.data, channel: c, into: &values)
            let p = grid.chooseParameters(values, ChannelStatistics(values), config.range)
            parameters.append(p)
            channelCodes = values.map { grid.quantize($0, p) }
            layout.scatter(channelCodes, channel: c, into: &codes)
        }
        return QuantizedTensor(shape: weight.shape, grid: grid, axis: layout.axis,
                               parameters: parameters, codes: codes)
    }

    /// ‖Q_b(W) - W‖² for every width in `bits`, equal to `quantize(W, b).squaredError(against: W)`.
    /// Each channel is gathered and its statistics computed once; every width is then evaluated
    /// on that channel while it is in cache, so the weight is read once. Double accumulation.
    public static func squaredErrors(_ weight: Tensor<Float>, bits: [Int],
                                     config: WeightQuantizerConfig = .init()) throws(QuantizerError) -> [Int: Double] {
        var grids: [QuantizationGrid] = []
        for b in Set(bits).sorted() { grids.append(try QuantizationGrid(scheme: config.scheme, bits: b)) }
        try config.range.validate()
        let layout = try ChannelLayout(shape: weight.shape, granularity: config.granularity)
        try requireFinite(weight.data)

        var totals = [Double](repeating: 0, count: grids.count)
        var values: [Float] = []
        for c in 0..<layout.channels {
            layout.gather(weight.data, channel: c, into: &values)
            let stats = ChannelStatistics(values)
            for (k, grid) in grids.enumerated() {
                let p = grid.chooseParameters(values, stats, config.range)
                totals[k] += grid.squaredError(values, p)
            }
        }
        return Dictionary(uniqueKeysWithValues: zip(grids.map(\.bits), totals))
    }
}
