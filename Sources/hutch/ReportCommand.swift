import HutchJobs

/// `hutch report DIR`: rebuilds DIR/report.html from DIR's sensitivity.json (required), plan.json,
/// frontier.json and run.json (optional); with data, or on the embedded example, it also
/// measures accuracy, loss and weight size of the float model, uniform 8 and 4 bits and the plan.
struct ReportCommand: Command {
    static let name = "report"
    static let summary = "rebuild DIR/report.html (sensitivity, bit widths, frontier, accuracy with --data)"
    static let usage = "DIR [--data D.npz | --inputs X.npy --labels Y.npy] [--model M.onnx] [--no-eval] [--out report.html]"
    static let positional: String? = "dir"
    static let flags: [Arguments.Flag] = [
        .option("dir", "DIR", "the job's output directory (also the first bare word)"),
    ] + DataFlags.flags(data: ".npz with x and y: measure accuracy, loss and weight size (default on the embedded example: Examples/digits.npz)") + [
        .option("model", "PATH", "the float model of DIR/sensitivity.json (default: the model in DIR/run.json, or the embedded example)"),
        .option("out", "PATH", "where to write the report (default DIR/report.html)"),
        .toggle("no-eval", "do not measure accuracy, even on the embedded example"),
    ]

    static func run(_ arguments: Arguments) throws {
        guard let directory = arguments.string("dir") else {
            throw CommandFailure(.usage, "give the job's output directory: hutch report DIR (the --out DIR of hutch run / coordinator)")
        }
        if arguments.has("no-eval") && (DataFlags.given(arguments) || arguments.has("model")) {
            throw CommandFailure(.usage, "--no-eval cannot be combined with --data, --inputs/--labels or --model (they are for the evaluation)")
        }
        let evaluate = arguments.has("no-eval") ? nil
            : ReportJob.EvaluationRequest(data: try DataFlags.source(arguments), model: arguments.string("model"), loss: try DataFlags.loss(arguments))
        print("report → " + (try ReportJob.write(directory: directory, evaluate: evaluate, out: arguments.string("out"))))
    }
}
