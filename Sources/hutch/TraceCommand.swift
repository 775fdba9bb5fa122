import HutchJobs

/// `hutch trace`: per-layer Hessian traces (exact, Hutchinson or sampled GGN) and quantization errors,
/// written as sensitivity.json (Protocols/sensitivity.schema.json).
struct TraceCommand: Command {
    static let name = "trace"
    static let summary = "measure each layer's Hessian trace and quantization errors (sensitivity.json)"
    static let usage = """
        [--model M.onnx] [--data D.npz | --inputs X.npy --labels Y.npy] [--samples N] [--batch-size B] \
        [--method auto|exact|hutchinson|ggn] [--mode joint|layer] [--probes P | --tol T --max-probes P] [--seed S] \
        [--probes-per-call K] [--threads T] [--memory GB] [--eigen] [--activations] [--measured] [--bits 2,3,4,5,6,8] --out sensitivity.json
        """
    static let flags: [Arguments.Flag] = TraceFlags.flags + [
        .option("out", "PATH", "where to write sensitivity.json (required)"),
        SharedFlags.memory,
    ]

    static func run(_ arguments: Arguments) throws {
        let out = try arguments.required("out")
        let threads = try SharedFlags.threads(arguments)
        var options = try TraceFlags.options(arguments)
        options.memoryBytes = try SharedFlags.memory(arguments)
        var job = TraceJob(inputs: try DataFlags.inputs(arguments), options: options, threads: threads, out: out)
        job.activations = arguments.has("activations")
        job.measured = arguments.has("measured")
        print(traceSummary(try job.run(), outPath: out))
    }
}
