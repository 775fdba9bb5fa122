/// Bad input to a quantizer, calibrator or dyadic conversion. Each description is one line
/// that says what was wrong and what to do.
public enum QuantizerError: Error, Equatable, Sendable, CustomStringConvertible {
    case bitsOutOfRange(Int)
    case axisOutOfRange(axis: Int, shape: [Int])
    case emptyTensor(shape: [Int])
    case nonFiniteValue(index: Int, value: Float)
    case invalidClipSearch(candidates: Int, lowestRatio: Double)
    case multiplierNotPositive(Double)
    case multiplierNotFinite(Double)
    case multiplierTooSmall(Double)
    case multiplierTooLarge(Double)
    case codeOutOfRange(index: Int, code: Int32, bits: Int)
    case codeCountMismatch(expected: Int, actual: Int)
    case packedByteCountMismatch(expected: Int, actual: Int)
    case nonZeroPadding
    case invalidPercentile(Double)
    case invalidHistogram(String)
    case histogramMismatch(String)
    case emptyCalibration
    case shapeMismatch(expected: [Int], actual: [Int])
    case invalidState(String)

    public var description: String {
        switch self {
        case .bitsOutOfRange(let bits):
            "bit width \(bits) is outside 1...16; choose a width between 1 and 16"
        case .axisOutOfRange(let axis, let shape):
            "channel axis \(axis) is outside the weight shape \(shape); use 0 for Conv and Gemm transB=1, 1 for Gemm transB=0 and MatMul"
        case .emptyTensor(let shape):
            "weight of shape \(shape) has no elements; only non-empty weights can be quantized"
        case .nonFiniteValue(let index, let value):
            "element \(index) is \(value); weights and activations must be finite to be quantized"
        case .invalidClipSearch(let candidates, let lowestRatio):
            "MSE clipping search with \(candidates) candidates from ratio \(lowestRatio) is invalid; use at least 1 candidate and a lowest ratio in (0, 1]"
        case .multiplierNotPositive(let m):
            "requantization multiplier \(m) is not positive; scales must be positive"
        case .multiplierNotFinite(let m):
            "requantization multiplier \(m) is not finite; check the scales it was made from"
        case .multiplierTooSmall(let m):
            "requantization multiplier \(m) is below 2^-32 and cannot be a dyadic b/2^c with c <= 62 to 2^-31 relative precision; check the scales"
        case .multiplierTooLarge(let m):
            "requantization multiplier \(m) does not fit an int32 numerator with shift 0; check the scales"
        case .codeOutOfRange(let index, let code, let bits):
            "code \(code) at index \(index) does not fit \(bits) bits"
        case .codeCountMismatch(let expected, let actual):
            "expected \(expected) codes, got \(actual)"
        case .packedByteCountMismatch(let expected, let actual):
            "packed codes need \(expected) bytes, got \(actual)"
        case .nonZeroPadding:
            "packed codes have non-zero padding bits after the last code; the data is corrupt"
        case .invalidPercentile(let p):
            "percentile \(p) is outside (50, 100]; use e.g. 99.99"
        case .invalidHistogram(let reason):
            "invalid activation histogram: \(reason)"
        case .histogramMismatch(let reason):
            "cannot merge activation histograms: \(reason); build every partial histogram from the same merged min-max range and bin count"
        case .emptyCalibration:
            "no activation values were observed; calibrate on at least one non-empty batch"
        case .shapeMismatch(let expected, let actual):
            "weight shape \(actual) does not match the quantized shape \(expected); compare a weight with its own quantization"
        case .invalidState(let reason):
            "invalid serialized state: \(reason)"
        }
    }
}
