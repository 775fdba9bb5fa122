import HutchJobs
import HutchQuantize

/// `hutch quantize`: quantizes a model to the widths of a plan and writes a QDQ ONNX model
/// (plus, on request, the packed weight file, the plan annotated with requantization scales,
/// and Hutch's own fake-quantized logits).
struct QuantizeCommand: Command {
    static let name = "quantize"
    static let summary = "quantize a model to a plan's widths and write a QDQ ONNX model"
    static let usage = """
        --model M.onnx --plan plan.json [--data D.npz | --inputs X.npy --labels Y.npy | --weights-only] --out quantized.onnx \
        [--packed model.hutchq] [--plan-out annotated.json] [--logits logits.npy] \
        [--calibration minmax|percentile:P] [--scheme symmetric|asymmetric] [--range minmax|mse] \
        [--integer-check report.json] [--external-data] [--narrow-activations]
        """
    static let flags: [Arguments.Flag] = [
        .option("model", "PATH", "the float ONNX model the plan was made for (required)"),
        .option("plan", "PATH", "plan.json from `hutch plan` (required)"),
    ] + DataFlags.flags(data: ".npz with x (and y for accuracy): calibrates activation ranges") + [
        .toggle("weights-only", "quantize weights only; activations stay float (no --data needed)"),
        .option("out", "PATH", "where to write the QDQ ONNX model (required)"),
        SharedFlags.packed,
        .option("plan-out", "PATH", "also write the plan with scales and dyadic requantization multipliers per layer"),
        .option("logits", "PATH", "also write Hutch's fake-quantized logits on the data as float32 .npy"),
        .option("calibration", "METHOD", "activation ranges: minmax (default) or percentile:P, e.g. percentile:99.99"),
        .option("scheme", "NAME", "weight codes: symmetric (default, HAWQ-V3) or asymmetric"),
        .option("range", "NAME", "weight ranges: minmax (default) or mse (MSE-optimal clipping per channel)"),
        .toggle("narrow-activations", "activations of at most 4 bits (plan.json activation_bits) as UINT4 QDQ pairs, opset 21 "
                + "(default: UINT8 pairs behind a Clip to the 4-bit range, the same values; onnxruntime 1.32 runs UINT4 pairs only "
                + "with graph optimizations basic or off)"),
        .toggle("external-data", "write the large initializers to OUT.data beside the model (automatic past protobuf's 2 GiB)"),
        .option("integer-check", "PATH", "also run the network in integers only (HAWQ-V3) on --data and write its comparison with the QDQ model"),
    ]

    static func run(_ arguments: Arguments) throws {
        let model = try arguments.required("model")
        let plan = try arguments.required("plan")
        let out = try arguments.required("out")
        let weightsOnly = arguments.has("weights-only")
        let data = try DataFlags.source(arguments)
        if !weightsOnly && data == nil {
            throw CommandFailure(.usage, "activation ranges need calibration data: give --data D.npz or --inputs X.npy --labels Y.npy, or --weights-only to keep activations float")
        }
        if arguments.has("logits") && data == nil {
            throw CommandFailure(.usage, "--logits needs --data or --inputs/--labels (the logits are computed on its inputs)")
        }
        if arguments.has("integer-check") && (data == nil || weightsOnly) {
            throw CommandFailure(.usage, "--integer-check needs --data and quantized activations (not --weights-only)")
        }
        var job = QuantizeJob(model: model, plan: plan, out: out)
        job.loss = try DataFlags.loss(arguments)
        (job.data, job.weightsOnly) = (data, weightsOnly)
        (job.packed, job.planOut, job.logits) = (arguments.string("packed"), arguments.string("plan-out"), arguments.string("logits"))
        job.integerCheck = arguments.string("integer-check")
        job.externalData = arguments.has("external-data")
        job.narrowActivations = arguments.has("narrow-activations")
        job.calibration = try calibrationMethod(arguments.string("calibration"))
        job.scheme = try arguments.choice("scheme", "symmetric or asymmetric") ?? .symmetric
        job.range = try range(arguments)
        let outcome = try job.run()
        let activations = outcome.quantizedActivations.map { "\($0) quantized activations" } ?? "float activations"
        print("quantized \(outcome.layers) layers (weight bits \(outcome.weightBits.map(String.init).joined(separator: ","))), \(activations), opset \(outcome.opset) → \(out)")
    }

    static func calibrationMethod(_ text: String?) throws -> CalibrationMethod {
        guard let text, text != "minmax" else { return .minMax }
        if text.hasPrefix("percentile:"), let p = Double(text.dropFirst("percentile:".count)), p > 50, p <= 100 {
            return .percentile(p)
        }
        throw CommandFailure(.usage, "--calibration must be minmax or percentile:P with 50 < P <= 100, got '\(text)'")
    }

    static func range(_ arguments: Arguments) throws -> RangeMethod {
        switch arguments.string("range") ?? "minmax" {
        case "minmax": return .minMax
        case "mse": return .mse
        case let other: throw CommandFailure(.usage, "--range must be minmax or mse, got '\(other)'")
        }
    }
}
