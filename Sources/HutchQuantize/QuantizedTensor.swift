import HutchTensor

/// A quantized weight: integer codes in the weight's own (ONNX) layout plus one scale and
/// zero point per channel along `axis` (one in total when `axis` is nil).
public struct QuantizedTensor: Sendable, Equatable {
    public var shape: [Int]
    public var grid: QuantizationGrid
    /// Channel axis; nil for per-tensor.
    public var axis: Int?
    /// One entry per channel (shape[axis] entries, or 1 for per-tensor).
    public var parameters: [AffineParameters]
    /// Codes on `grid`, row-major like the weight.
    public var codes: [Int32]

    public init(shape: [Int], grid: QuantizationGrid, axis: Int?,
                parameters: [AffineParameters], codes: [Int32]) {
        self.shape = shape
        self.grid = grid
        self.axis = axis
        self.parameters = parameters
        self.codes = codes
    }

    public var bits: Int { grid.bits }
    public var scales: [Float] { parameters.map(\.scale) }
    public var zeroPoints: [Int32] { parameters.map(\.zeroPoint) }

    /// The fake-quantized weight: each code through DequantizeLinear with its channel's parameters.
    public func dequantized() -> Tensor<Float> {
        var out = [Float](repeating: 0, count: codes.count)
        forEachElement { index, p in out[index] = grid.dequantize(codes[index], p) }
        return Tensor(shape: shape, data: out)
    }

    /// ‖dequantized() - weight‖², accumulated in Double.
    public func squaredError(against weight: Tensor<Float>) throws(QuantizerError) -> Double {
        guard weight.shape == shape else { throw .shapeMismatch(expected: shape, actual: weight.shape) }
        var sum = 0.0
        forEachElement { index, p in
            let d = Double(grid.dequantize(codes[index], p)) - Double(weight.data[index])
            sum += d * d
        }
        return sum
    }

    private func forEachElement(_ body: (Int, AffineParameters) -> Void) {
        let (outer, channels, inner): (Int, Int, Int)
        if let axis {
            (outer, channels, inner) = (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
        } else {
            (outer, channels, inner) = (1, 1, codes.count)
        }
        var index = 0
        for _ in 0..<outer {
            for c in 0..<channels {
                let p = parameters[c]
                for _ in 0..<inner {
                    body(index, p)
                    index += 1
                }
            }
        }
    }
}
