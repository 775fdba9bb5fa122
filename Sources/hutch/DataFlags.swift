import HutchClusterCore
import HutchJobs
import HutchModel

/// The calibration data flags every command that takes data shares: --data D.npz, or
/// --inputs X.npy --labels Y.npy.
enum DataFlags {
    /// The three flags; `data` says what the data is for in this command.
    static func flags(data: String) -> [Arguments.Flag] {
        [
            .option("data", "PATH", data),
            .option("inputs", "PATH", "inputs as .npy (with --labels), instead of --data"),
            .option("labels", "PATH", "integer labels as .npy (with --inputs)"),
            .option("loss", "NAME", "ce, token-ce or mse: the loss head the labels must be for (default: chosen by the labels; Protocols/README.md, Loss)"),
        ]
    }

    /// --model for a command that falls back to the embedded example; `what` says what the model is.
    static func exampleModel(_ what: String) -> Arguments.Flag {
        .option("model", "PATH", what + " (default: the embedded example Examples/digits_resnet.onnx)")
    }

    /// The model and data the flags name, or the embedded example.
    static func inputs(_ arguments: Arguments) throws -> JobInputs {
        try JobInputs.locate(model: arguments.string("model"), data: try source(arguments), loss: try loss(arguments))
    }

    /// The data the flags name; nil when none is given.
    static func source(_ arguments: Arguments) throws -> DataSource? {
        try DataSource(data: arguments.string("data"), inputs: arguments.string("inputs"), labels: arguments.string("labels"))
    }

    /// The head --loss names (nil: chosen by the labels).
    static func loss(_ arguments: Arguments) throws -> String? {
        guard let loss = arguments.string("loss") else { return nil }
        guard LossTargets.names.contains(loss) else {
            throw CommandFailure(.usage, "--loss must be \(LossTargets.names.joined(separator: ", ")), got '\(loss)'")
        }
        return loss
    }

    /// Whether any of the data flags is given.
    static func given(_ arguments: Arguments) -> Bool {
        ["data", "inputs", "labels", "loss"].contains { arguments.has($0) }
    }
}
