import Foundation
import HutchCluster
import HutchClusterCore
import HutchSensitivity
import HutchTensor
import HutchWire

/// `hutch worker`: connects to a coordinator and computes the tasks it leases until the job is
/// complete. Model and data are read from the paths the tasks name (a shared filesystem), or
/// fetched from the coordinator by digest.
public struct WorkerJob {
    public var endpoint: String
    /// Shown by the coordinator.
    public var name: String
    public var curve: CurveClientConfig?
    /// Compute threads (nil: all cores).
    public var threads: Int?
    /// Exit when this process (the `hutch run` that started the worker) is gone.
    public var parent: pid_t?
    /// Where fetched blobs are kept by digest, for later jobs and restarts.
    public var cacheDirectory: String?
    public var fetchBlobs = false
    /// `--memory`: what this worker may use, which caps the stacking of exact, ggn and
    /// activation passes and Hutchinson's chunks in flight as in `hutch trace` (nil: the
    /// physical memory or the cgroup limit).
    public var memoryBytes: Int?

    public init(endpoint: String, name: String) {
        self.endpoint = endpoint
        self.name = name
    }

    public func run() throws {
        if let threads { Kernels.setThreads(threads) }
        var config = WorkerConfig(name: name, instance: UInt64.random(in: 1...UInt64.max))
        config.threads = UInt32(threads ?? ProcessInfo.processInfo.activeProcessorCount)
        config.sharedFilesystem = !fetchBlobs
        // quantized layers too large for a RESULT wait on disk for the coordinator's pull
        let produced: DirectoryBlobStore
        do {
            produced = try DirectoryBlobStore.temporary()
        } catch {
            throw CommandFailure(.io, "worker \(name): \(error)")
        }
        // removed on SIGINT/SIGTERM too (launchers and `hutch run` stop workers that way)
        SignalCleanup.removeOnSignal(produced.directory)
        defer {
            produced.remove()
            SignalCleanup.forget(produced.directory)
        }
        // fetched model and data are written to disk chunk by chunk: kept in --cache DIR, else
        // in the temporary directory and removed with it
        let fetched = try cacheDirectory.map { try BlobCache.open($0, log: log) } ?? produced
        var core = WorkerCore(config: config, produced: produced, fetched: fetched)
        let cache = ComputeDispatcher.readingFiles()
        let memory = memoryBytes ?? MemoryBudget.defaultMemory(physical: SystemMemory.physicalBytes(), cgroupLimit: SystemMemory.cgroupLimitBytes())
        cache.stackBudgetBytes = memory.map(MemoryBudget.stackBytes)
        cache.memoryBytes = memory
        if let memory, let stack = cache.stackBudgetBytes {
            log("worker \(name): --memory \(String(format: "%.3g", Double(memory) / 1e9)) GB: exact, ggn and activation passes stack at most \(String(format: "%.3g", Double(stack) / 1e6)) MB"
                + "; Hutchinson runs as many chunks of 8 examples at once as fit (Protocols/README.md, \"Memory\")")
        }
        let client = WorkerClient(connect: endpoint, curve: curve) { request in cache.compute(request) }
        if let parent {
            // an orphaned local worker would otherwise reconnect forever
            client.orphaned = { getppid() != parent }
        }
        if let curve {
            // a refused worker hears nothing at all: say which key the coordinator must list
            log("worker \(name): CURVE on; this worker's public key \(curve.keyPair.publicKey.z85) must be in the coordinator's --authorized-keys")
        }
        log("worker \(name): connecting to \(endpoint)")
        do {
            try client.run(&core, log: { log("worker \(name): \($0)") })
        } catch let stopped as WorkerStopped {
            throw CommandFailure(.cluster, stopped.description)
        } catch let error as ZMQError {
            throw CommandFailure(.io, "worker \(name): \(error)")
        }
        log("worker \(name): job complete after \(core.completed) task(s)")
    }
}
