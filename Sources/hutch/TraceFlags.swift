import Foundation
import HutchJobs
import HutchSensitivity

/// The flags of `hutch trace` that `hutch run` and `hutch coordinator` take too: the model and
/// data, and every option of the measurement.
enum TraceFlags {
    /// Every flag of `hutch trace` but --out.
    static let flags: [Arguments.Flag] = [
        DataFlags.exampleModel("ONNX classifier"),
    ] + DataFlags.flags(data: ".npz with arrays x (inputs; or one array per model input, named as it) and y (labels: class indices [N], token labels [N, T] with -100 ignored, or float regression targets; they choose the loss) (default with no --model: Examples/digits.npz)") + [
        .option("samples", "N", "use the first N examples (default: all)"),
        .option("batch-size", "B", "examples per batch (default 128); the dataset Hessian is the example-weighted mean"),
        .option("method", "NAME", "auto (default: exact on piecewise-linear nets, else Hutchinson; on a piecewise-linear net of more than 11 classes a timed pilot picks the fastest predicted to reach --tol, Protocols/README.md; hutch run and hutch coordinator decide once and keep the choice in job.json), exact, hutchinson or ggn "
                    + "(sampled Gauss-Newton: --probes/--tol count its samples per example; the Hessian's trace on "
                    + "piecewise-linear nets, else the Gauss-Newton matrix's)"),
        .option("mode", "NAME", "Hutchinson probes: joint (one HVP for all layers, default) or layer (one per layer)"),
        .option("probes", "P", "Hutchinson: exactly P probes (ggn: samples per example)"),
        .option("tol", "T", "Hutchinson and ggn: add rounds of 10 probes (samples) until every layer's relative standard error ≤ T (default 0.05)"),
        .option("max-probes", "P", "Hutchinson and ggn: at most P probes (samples) per layer with --tol (default 200)"),
        .option("seed", "S", "probe generator seed (default 0)"),
        .option("probes-per-call", "K", "Hutchinson: probes stacked in one Hessian-vector pass and one task (default 4); "
                    + "8 is ~7 % faster per probe on ResNet-20, fewer gives a cluster more tasks per round; "
                    + "results do not depend on it; a pass takes fewer when one chunk at K does not fit --memory"),
        SharedFlags.threads("; results do not depend on it"),
        .toggle("eigen", "also estimate each layer's top Hessian eigenvalue by power iteration (HAWQ-V1)"),
        .option("bits", "LIST", "widths for quantization_error, comma separated (default 2,3,4,5,6,8; 'none' for none)"),
        .toggle("activations", "also each layer's input-activation sensitivity (HAWQ-V2: exact when the weight traces are, else Hutchinson "
                    + "on the activations with as many probes as the weight traces, at least 10; and their quantization errors per --bits width)"),
        .toggle("measured", "also each layer's measured loss increase when it alone is quantized to each width of --bits (for `hutch plan --objective measured`): "
                    + "per-batch loss sums of one forward pass per layer, width and batch; hutch run and hutch coordinator cut them into tasks "
                    + "(layer × width × batches) on the workers, same bytes"),
    ]

    /// The resolved options (defaults filled in) of `hutch trace`, `run` and `coordinator`.
    static func options(_ arguments: Arguments) throws -> TraceOptions {
        var options = TraceOptions()
        if let method: TraceOptions.Method = try arguments.choice("method", "auto, exact, hutchinson or ggn") { options.method = method }
        if let mode: ProbeMode = try arguments.choice("mode", "joint or layer") { options.mode = mode }
        let hutchinsonFlags = ["mode", "probes", "tol", "max-probes", "probes-per-call"].filter { arguments.has($0) }
        if options.method == .exact, let flag = hutchinsonFlags.first {
            throw CommandFailure(.usage, "--\(flag) applies to Hutchinson probes, not to --method exact")
        }
        if options.method == .ggn, arguments.has("mode") {
            throw CommandFailure(.usage, "--mode applies to Hutchinson probes, not to --method ggn (one reverse pass serves every layer)")
        }
        if arguments.has("probes") && (arguments.has("tol") || arguments.has("max-probes")) {
            throw CommandFailure(.usage, "give either --probes P (a fixed count) or --tol T / --max-probes P (adaptive), not both")
        }
        options.probes = try arguments.int("probes", range: 2...1_000_000)
        if let tol = try arguments.double("tol") {
            guard tol > 0 else { throw CommandFailure(.usage, "--tol must be positive, got \(tol)") }
            options.tolerance = tol
        }
        if let maxProbes = try arguments.int("max-probes", range: 2...1_000_000) { options.maxProbes = maxProbes }
        if let seed = try arguments.int("seed", range: 0...Int.max) { options.seed = UInt64(seed) }
        if let k = try arguments.int("probes-per-call", range: 1...256) { options.probesPerCall = k }
        options.samples = try arguments.int("samples", range: 1...Int.max)
        if let batch = try arguments.int("batch-size", range: 1...1_000_000) { options.batchSize = batch }
        options.eigenvalues = arguments.has("eigen")
        if let text = arguments.string("bits") {
            options.bits = try parseBitList(text)
        }
        return options
    }

    static func parseBitList(_ text: String) throws -> [Int] {
        if text == "none" { return [] }
        var bits: [Int] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let b = Int(part.trimmingCharacters(in: .whitespaces)), (1...16).contains(b) else {
                throw CommandFailure(.usage, "--bits: '\(part)' is not a bit width; give integers in 1...16 separated by ',' (or 'none')")
            }
            if !bits.contains(b) { bits.append(b) }
        }
        return bits.sorted()
    }
}
