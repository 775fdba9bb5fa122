/// The real range an activation tensor is quantized over (per tensor).
public struct ActivationRange: Sendable, Equatable, Hashable, Codable {
    public var min: Float
    public var max: Float

    public init(min: Float, max: Float) {
        self.min = min
        self.max = max
    }

    /// True when the range has no negative values (e.g. after ReLU): unsigned codes, zero point 0.
    public var isUnsigned: Bool { min >= 0 }

    /// The same range with the lower end raised to 0, for a tensor known to be non-negative.
    public var unsigned: ActivationRange { ActivationRange(min: Swift.max(min, 0), max: Swift.max(max, 0)) }

    /// UINT-b QuantizeLinear parameters (codes [0, 2^b-1], the type onnxruntime's QDQ uses for
    /// activations). The range is widened to include 0; an unsigned range gets zero point 0
    /// and scale max / (2^b - 1).
    public func parameters(bits: Int) throws(QuantizerError) -> AffineParameters {
        let grid = try QuantizationGrid(scheme: .asymmetric, bits: bits)
        return grid.parameters(lower: min, upper: max)
    }
}
