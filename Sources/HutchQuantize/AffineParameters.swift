/// Scale and zero point of one channel (or of the whole tensor): real = (code - zeroPoint) * scale.
public struct AffineParameters: Sendable, Equatable, Hashable, Codable {
    public var scale: Float
    public var zeroPoint: Int32

    public init(scale: Float, zeroPoint: Int32) {
        self.scale = scale
        self.zeroPoint = zeroPoint
    }
}

extension QuantizationGrid {
    /// One value to its code with ONNX QuantizeLinear semantics, in Float32 like onnxruntime:
    /// clamp(roundHalfToEven(x / scale) + zeroPoint, minCode, maxCode).
    /// Binary grids use the sign instead (x >= 0 -> +1, including -0.0).
    @inlinable
    public func quantize(_ x: Float, _ parameters: AffineParameters) -> Int32 {
        if isBinary { return x >= 0 ? 1 : -1 }
        let q = (x / parameters.scale).rounded(.toNearestOrEven) + Float(parameters.zeroPoint)
        // NaN never reaches here from the validated tensor paths; map it to the zero point
        // rather than trapping in Int32(_:).
        guard !q.isNaN else { return parameters.zeroPoint }
        return Int32(Swift.min(Swift.max(q, Float(minCode)), Float(maxCode)))
    }

    /// One code back to a real value, as ONNX DequantizeLinear: Float(code - zeroPoint) * scale.
    @inlinable
    public func dequantize(_ code: Int32, _ parameters: AffineParameters) -> Float {
        Float(code - parameters.zeroPoint) * parameters.scale
    }

    /// Parameters that cover the real range [lower, upper] (min-max rule, in Float32 as PyTorch
    /// observers compute them). Symmetric: scale = max(|lower|, |upper|) / (2^(b-1) - 1), zero
    /// point 0. Asymmetric: the range is widened to include 0, scale = (hi - lo) / (2^b - 1),
    /// zeroPoint = clamp(round(-lo / scale)), so 0.0 maps exactly to the zero point.
    /// An all-zero range gets scale 1 (any positive scale is exact there); a scale that would
    /// underflow is raised to the smallest normal Float so that x / scale never divides by 0.
    /// Not meaningful for binary grids, whose scale is mean|w| (see `binaryParameters`).
    public func parameters(lower: Float, upper: Float) -> AffineParameters {
        switch scheme {
        case .symmetric:
            let maxAbs = Swift.max(abs(lower), abs(upper))
            let positiveLevels = Float(Swift.max(maxCode, 1))
            return AffineParameters(scale: Self.safeScale(maxAbs / positiveLevels, range: maxAbs), zeroPoint: 0)
        case .asymmetric:
            let lo = Swift.min(lower, 0), hi = Swift.max(upper, 0)
            let scale = Self.safeScale((hi - lo) / Float(maxCode), range: hi - lo)
            let zero = (-lo / scale).rounded(.toNearestOrEven)
            let clamped = Swift.min(Swift.max(zero, Float(minCode)), Float(maxCode))
            return AffineParameters(scale: scale, zeroPoint: Int32(clamped))
        }
    }

    /// 1-bit symmetric parameters: scale = mean|w| (least squares for sign codes). Sign codes
    /// cannot represent 0, so an all-zero channel gets the smallest normal Float as its scale:
    /// its error is below 2^-251 per element, zero for every practical purpose.
    public func binaryParameters(meanAbs: Double) -> AffineParameters {
        let scale = Float(meanAbs)
        return AffineParameters(scale: scale.isFinite ? Swift.max(scale, .leastNormalMagnitude) : .greatestFiniteMagnitude,
                                zeroPoint: 0)
    }

    @usableFromInline
    static func safeScale(_ scale: Float, range: Float) -> Float {
        if range == 0 { return 1 }
        if !scale.isFinite { return .greatestFiniteMagnitude }
        return Swift.max(scale, .leastNormalMagnitude)
    }
}
