import Foundation
import HutchJobs

/// `hutch run`: a coordinator and N local worker processes on loopback, on the embedded example
/// by default.
struct RunCommand: Command {
    static let name = "run"
    static let summary = "coordinator plus N local workers over ZeroMQ: DIR/sensitivity.json, with a budget also plan.json and quantized.onnx"
    static let usage = "[--model M.onnx --data D.npz] [--workers N] [--threads T] [--fetch-blobs] [--curve] [every hutch trace flag] [hutch plan budget flags] --out DIR"
    static let flags: [Arguments.Flag] = ClusterFlags.flags.map {
        $0.name == "threads" ? .option("threads", "T", "compute threads per worker (default: the cores divided among the workers)") : $0
    } + [
        .option("out", "DIR", "state and output directory: sensitivity.json (+ plan.json, quantized.onnx with a budget), job.json, "
                + "the journal; the same command on the same DIR resumes (required)"),
        .option("workers", "N", "local worker processes (default 2)"),
        .option("tasks-per-worker", "K", "tasks per worker and round (default: from the model's MACs, about 3 s of one core per task, at least 2 per worker)"),
        .toggle("fetch-blobs", "workers fetch model and data from the coordinator by digest instead of reading the files"),
        .toggle("curve", "encrypt and authenticate the local connections with fresh CURVE keys (removed afterwards)"),
        ClusterFlags.verify,
    ]

    static func run(_ arguments: Arguments) throws {
        let workers = try arguments.int("workers", range: 1...256) ?? 2
        // the cores are shared between the local workers unless told otherwise
        let threads = try SharedFlags.threads(arguments)
            ?? max(1, ProcessInfo.processInfo.activeProcessorCount / workers)
        let state = try arguments.required("out")
        let keys = arguments.has("curve") ? try ClusterSecurity.Ephemeral.make() : nil
        defer { keys?.cleanup() }
        var job = try ClusterFlags.job(arguments, stateDirectory: state, bind: "tcp://127.0.0.1:*")
        job.expectedWorkers = workers
        job.localWorkers = LocalWorkers(count: workers, threads: threads, fetchBlobs: arguments.has("fetch-blobs"),
                                        extraArguments: keys?.workerArguments ?? [])
        job.curve = keys?.server
        try job.run()
    }
}
