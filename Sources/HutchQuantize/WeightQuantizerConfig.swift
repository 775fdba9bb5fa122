/// Whether one scale covers the whole tensor or each slice along a channel axis.
/// The weight layout is ONNX's: axis 0 for Conv [C_out, C_in/g, kH, kW] and Gemm transB=1 [N, K];
/// axis 1 for Gemm transB=0 and MatMul [K, N].
public enum Granularity: Sendable, Equatable, Hashable, Codable {
    case perTensor
    case perChannel(axis: Int)
}

/// How the real range a channel's codes cover is chosen.
public enum RangeMethod: Sendable, Equatable, Hashable, Codable {
    /// The channel's min and max (or max|w|).
    case minMax
    /// The range r * [min, max] with the least squared error, r from `candidates` evenly spaced
    /// ratios in [lowestRatio, 1] (the last is exactly 1, i.e. min-max, so this is never worse
    /// than min-max). Ties keep the larger ratio. Deterministic.
    case mseClipping(candidates: Int, lowestRatio: Double)

    /// 100 candidate ratios in [0.3, 1].
    public static let mse = RangeMethod.mseClipping(candidates: 100, lowestRatio: 0.3)
}

/// Everything except the bit width, which the allocation chooses per layer.
public struct WeightQuantizerConfig: Sendable, Equatable, Hashable, Codable {
    public var scheme: QuantizationScheme
    public var granularity: Granularity
    public var range: RangeMethod

    /// HAWQ-V3 default: symmetric, per output channel on axis 0, min-max.
    public init(scheme: QuantizationScheme = .symmetric,
                granularity: Granularity = .perChannel(axis: 0),
                range: RangeMethod = .minMax) {
        self.scheme = scheme
        self.granularity = granularity
        self.range = range
    }
}
