import Foundation

/// The `hutch worker` processes `hutch run` starts beside its coordinator, on loopback.
public struct LocalWorkers: Sendable {
    public var count: Int
    /// Compute threads per worker (nil: the worker's default, all cores).
    public var threads: Int?
    /// The workers fetch model and data from the coordinator by digest instead of reading the files.
    public var fetchBlobs: Bool
    /// Added to each worker's command line (its CURVE flags).
    public var extraArguments: [String]

    public init(count: Int, threads: Int?, fetchBlobs: Bool, extraArguments: [String] = []) {
        self.count = count
        self.threads = threads
        self.fetchBlobs = fetchBlobs
        self.extraArguments = extraArguments
    }

    /// `count` worker processes of this same executable, connected to `endpoint`.
    func spawn(endpoint: String) throws -> [Process] {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var children: [Process] = []
        for i in 0..<count {
            let process = Process()
            process.executableURL = executable
            process.arguments = ["worker", "--connect", endpoint, "--name", "local-\(i + 1)", "--parent", String(getpid())]
                + (threads.map { ["--threads", String($0)] } ?? []) + (fetchBlobs ? ["--fetch-blobs"] : []) + extraArguments
            do {
                try process.run()
            } catch {
                for child in children { child.terminate() }
                throw CommandFailure(.io, "cannot start worker \(i + 1) (\(executable.path)): \((error as NSError).localizedDescription)")
            }
            children.append(process)
        }
        return children
    }

    /// Why `hutch run` cannot finish: every local worker process has exited (nil otherwise).
    static func allExited(_ children: [Process]) -> String? {
        guard !children.isEmpty, children.allSatisfy({ !$0.isRunning }) else { return nil }
        let statuses = children.map { String($0.terminationStatus) }.joined(separator: ", ")
        return "all \(children.count) local worker(s) exited (status \(statuses)) before the job was done; see their messages above"
    }
}
