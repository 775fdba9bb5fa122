import HutchErrors

/// Bad input to quantizing or exporting a whole model: one line naming the file, layer or
/// tensor and what to do; the kind says which input is at fault.
public typealias ExportError = OneLineError<ExportErrorKind>

public enum ExportErrorKind: Hashable, Sendable {
    /// The plan does not fit the model (missing layers, widths out of range, digest).
    case plan
    /// The model cannot be exported (weight not an initializer, opset too old, ...).
    case model
    /// The calibration data is unusable.
    case data
}
