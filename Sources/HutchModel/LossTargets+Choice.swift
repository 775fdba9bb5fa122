/// The loss head's choice (Protocols/README.md, "Loss"): from the output's rank and the labels'
/// shape and dtype, or named by `--loss ce|token-ce|mse`.
extension LossTargets {
    public static let names = ["ce", "token-ce", "mse"]

    /// The refusal of a loss name that is none of `names`.
    static func unknown(_ name: String) -> ModelError {
        ModelError.invalidData("unknown loss '\(name)'; use one of \(names.joined(separator: ", "))")
    }

    /// The targets for `labels` against an output of shape `output` (batch first): integer
    /// labels [N] on [N, C] are ce, integer labels [N, T] on [N, T, V] token-ce, float labels
    /// [N, K] (or [N] for K = 1) on [N, K] mse. `loss` forces a head; a mismatch is one line.
    public init(labels y: NumPyArray, output: [Int?], loss: String? = nil) throws(ModelError) {
        let integers = y.integers()
        let chosen = loss ?? (integers == nil ? "mse" : output.count == 3 ? "token-ce" : "ce")
        switch chosen {
        case "ce":
            guard let integers, y.shape.count == 1 || (y.shape.count == 2 && y.shape[1] == 1), output.count == 2 else {
                throw ModelError.invalidData("loss ce needs integer labels [N] and logits [N, C]; the labels are \(y.dtype.name) \(y.shape), the output \(output.count)-dimensional")
            }
            self = .classes(integers.map { Int($0) })
        case "token-ce":
            guard let integers, y.shape.count == 2, output.count == 3, output[1] == y.shape[1] else {
                throw ModelError.invalidData("loss token-ce needs integer labels [N, T] (-100 ignored) and logits [N, T, V]; the labels are \(y.dtype.name) \(y.shape), the output has rank \(output.count)")
            }
            self = .tokens(integers.map { Int($0) }, perExample: y.shape[1])
        case "mse":
            let width = y.shape.count == 1 ? 1 : y.shape.dropFirst().reduce(1, *)
            guard integers == nil, y.shape.count <= 2, output.count == 2, output[1] == width else {
                throw ModelError.invalidData("loss mse needs float targets [N, K] and an output [N, K]; the targets are \(y.dtype.name) \(y.shape), the output has rank \(output.count)")
            }
            self = .values(y.floats(), perExample: width)
        default:
            throw Self.unknown(chosen)
        }
    }
}
