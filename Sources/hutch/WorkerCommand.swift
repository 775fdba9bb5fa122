import Foundation
import HutchJobs

/// `hutch worker`: connects to a coordinator and computes the tasks it leases until the job is
/// complete. Model and data are read from the paths the tasks name (a shared filesystem).
struct WorkerCommand: Command {
    static let name = "worker"
    static let summary = "compute tasks for a `hutch coordinator` until its job is complete"
    static let usage = "--connect tcp://HOST:PORT [--curve-key W.key --coordinator-key C.pub] [--threads T] [--memory GB] [--name NAME]"
    static let flags: [Arguments.Flag] = ClusterSecurity.clientFlags(around: [
        SharedFlags.threads(""),
        SharedFlags.memory,
        .option("parent", "PID", "exit when process PID (the `hutch run` that started this worker) is gone"),
        .option("cache", "DIR", "keep fetched model and data blobs in DIR (by digest) for later jobs and restarts"),
        .toggle("fetch-blobs", "fetch model and data from the coordinator by digest (no shared filesystem)"),
        .option("name", "NAME", "name shown by the coordinator (default: host name and process id)"),
    ])

    static func run(_ arguments: Arguments) throws {
        let endpoint = try arguments.endpoint("connect")
        let curve = try ClusterSecurity.client(arguments)
        let threads = try SharedFlags.threads(arguments)
        let name = arguments.string("name") ?? "\(ProcessInfo.processInfo.hostName.prefix(40))-\(getpid())"
        guard (1...64).contains(name.utf8.count), !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw CommandFailure(.usage, "--name must be 1-64 bytes without control characters")
        }
        let parent = try arguments.int("parent", range: 1...Int(Int32.max)).map { pid_t($0) }
        var job = WorkerJob(endpoint: endpoint, name: name)
        (job.curve, job.threads, job.parent) = (curve, threads, parent)
        (job.cacheDirectory, job.fetchBlobs) = (arguments.string("cache"), arguments.has("fetch-blobs"))
        job.memoryBytes = try SharedFlags.memory(arguments)
        try job.run()
    }
}
