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
        .option("memory", "GB", "memory to plan for, in 10^9 bytes (default: the physical memory or the cgroup limit, the smaller): "
                    + "exact and ggn stack at most min(4 GiB, half of it) of activations per reverse pass (Protocols/README.md, \"Memory\")"),
    ]

    static func run(_ arguments: Arguments) throws {
        let out = try arguments.required("out")
        let threads = try SharedFlags.threads(arguments)
        var options = try TraceFlags.options(arguments)
        if let gb = try arguments.double("memory") {
            guard gb > 0, gb < 1e9 else { throw CommandFailure(.usage, "--memory must be a positive number of GB, got \(gb)") }
            options.memoryBytes = Int(gb * 1e9)
        }
        var job = TraceJob(inputs: try DataFlags.inputs(arguments), options: options, threads: threads, out: out)
        job.activations = arguments.has("activations")
        job.measured = arguments.has("measured")
        print(traceSummary(try job.run(), outPath: out))
    }
}
