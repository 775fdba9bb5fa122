import HutchTensor

/// Quantize-then-dequantize of a whole tensor with one set of parameters (per-tensor
/// activations), exactly what a QuantizeLinear -> DequantizeLinear pair computes in onnxruntime.
public struct FakeQuantizer: Sendable, Equatable {
    public var grid: QuantizationGrid
    public var parameters: AffineParameters

    public init(grid: QuantizationGrid, parameters: AffineParameters) {
        self.grid = grid
        self.parameters = parameters
    }

    /// UINT-b activation quantization over a calibrated range (see `ActivationRange.parameters`).
    public init(activationRange range: ActivationRange, bits: Int) throws(QuantizerError) {
        self.init(grid: try QuantizationGrid(scheme: .asymmetric, bits: bits),
                  parameters: try range.parameters(bits: bits))
    }

    public func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float> {
        Tensor(shape: x.shape, data: x.data.map { grid.dequantize(grid.quantize($0, parameters), parameters) })
    }
}
