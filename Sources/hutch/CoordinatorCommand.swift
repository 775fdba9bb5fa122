import Foundation
import HutchJobs

/// `hutch coordinator`: serves a sensitivity job to workers over ZeroMQ and writes
/// DIR/sensitivity.json, the same bytes `hutch trace` writes with the same flags.
struct CoordinatorCommand: Command {
    static let name = "coordinator"
    static let summary = "serve a job to `hutch worker`s over ZeroMQ: DIR/sensitivity.json (+ plan.json, quantized.onnx with a budget)"
    static let usage = """
        [--model M.onnx --data D.npz] --bind tcp://HOST:PORT [--curve-key C.key --authorized-keys FILE | --insecure] [--workers N] [every hutch trace flag] [hutch plan budget flags] --state DIR
        """
    static let flags: [Arguments.Flag] = ClusterFlags.flags + [
        .option("state", "DIR", "state directory: job.json, the journal, and the outputs sensitivity.json (+ plan.json, quantized.onnx with a budget); "
                + "the same command on the same DIR resumes (required)"),
        .option("bind", "ENDPOINT", "where workers connect, tcp://HOST:PORT (PORT * picks a free one); non-loopback needs CURVE or --insecure"),
        .toggle("insecure", "allow binding a non-loopback address without CURVE (unencrypted, anyone may connect)"),
    ] + ClusterSecurity.serverFlags + [
        .option("workers", "N", "workers expected, to size tasks so that all stay busy (default 4)"),
        .option("tasks-per-worker", "K", "tasks per expected worker and round (default: from the model's MACs, about 3 s of one core per task, at least 2 per worker)"),
        ClusterFlags.verify,
    ]

    static func run(_ arguments: Arguments) throws {
        let bind = try arguments.endpoint("bind")
        let curve = try ClusterSecurity.server(arguments)
        try checkBind(bind, insecure: arguments.has("insecure"), curve: curve != nil)
        let workers = try arguments.int("workers", range: 1...100_000) ?? 4
        var job = try ClusterFlags.job(arguments, stateDirectory: try arguments.required("state"), bind: bind)
        (job.expectedWorkers, job.curve) = (workers, curve)
        try job.run()
    }

    /// Only loopback addresses may be bound without CURVE, unless --insecure (`endpoint` is tcp://…).
    static func checkBind(_ endpoint: String, insecure: Bool, curve: Bool) throws {
        let rest = endpoint.dropFirst("tcp://".count)
        guard let colon = rest.lastIndex(of: ":") else {
            throw CommandFailure(.usage, "--bind '\(endpoint)' has no port; give tcp://HOST:PORT (PORT * for any free port)")
        }
        let host = String(rest[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        let loopback = host == "localhost" || host == "::1" || host.hasPrefix("127.")
        if !loopback && !insecure && !curve {
            throw CommandFailure(.usage, "--bind \(endpoint) is not a loopback address: give --curve-key and --authorized-keys (see hutch keygen) to encrypt and admit only your workers, or add --insecure on a trusted network, or bind 127.0.0.1")
        }
    }
}
