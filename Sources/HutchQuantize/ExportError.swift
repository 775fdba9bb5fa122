/// Bad input to quantizing or exporting a whole model: one line naming the file, layer or
/// tensor and what to do. `kind` says which input is at fault (the CLI maps it to an exit code).
public struct ExportError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The plan does not fit the model (missing layers, widths out of range, digest).
        case plan
        /// The model cannot be exported (weight not an initializer, opset too old, ...).
        case model
        /// The calibration data is unusable.
        case data
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
