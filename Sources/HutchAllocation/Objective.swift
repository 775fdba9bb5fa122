import Foundation

/// What the solver minimises: Σ_l Ω_l(b_l). Three per-layer perturbation models:
/// - `hawqV3`: Ω_l(b) = Tr(H_ll)/n_l · ‖Q_b(W_l) − W_l‖²   (HAWQ-V2/V3; needs quantization errors)
/// - `eigenvalue`: Ω_l(b) = λ_max(H_ll) · ‖Q_b(W_l) − W_l‖²  (HAWQ-V1 sensitivity; needs top
///   eigenvalues and quantization errors)
/// - `trace`: Ω_l(b) = Tr(H_ll) · 4^(−b)   (trace alone: the second-order loss change under
///   uniform quantization noise whose step halves with every bit, the same weight range
///   for every layer; needs neither quantization errors nor eigenvalues)
/// - `measured`: Ω_l(b) = max(0, the measured increase of the mean loss with layer l alone
///   quantized to b bits) (`hutch trace --measured`; no quadratic model, first-order term included)
public enum Objective: String, CaseIterable, Sendable {
    case hawqV3 = "hawq-v3"
    case eigenvalue = "eigenvalue"
    case trace = "trace"
    case measured = "measured"

    public var needsQuantizationErrors: Bool { self != .trace && self != .measured }

    /// Ω of one layer at `bits`; nil when an input the objective needs is missing.
    public func perturbation(_ layer: SensitivityReport.Layer, bits: Int) -> Double? {
        switch self {
        case .hawqV3:
            return layer.quantizationError(bits: bits).map { layer.trace / Double(layer.parameters) * $0 }
        case .eigenvalue:
            guard let eigen = layer.topEigenvalue, let error = layer.quantizationError(bits: bits) else { return nil }
            return max(eigen, 0) * error
        case .trace:
            return layer.trace * pow(4, -Double(bits))
        case .measured:
            // a layer whose quantization lowers the loss costs nothing, not less than nothing
            return layer.measuredLossIncrease?[String(bits)].map { max(0, $0) }
        }
    }
}
