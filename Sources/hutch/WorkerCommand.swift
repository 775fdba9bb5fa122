import Foundation
import HutchCluster
import HutchModel
import HutchQuantize
import HutchSensitivity
import HutchTensor
import HutchWire

/// `hutch worker`: connects to a coordinator and computes the tasks it leases until the job is
/// complete. Model and data are read from the paths the tasks name (a shared filesystem).
struct WorkerCommand: Command {
    static let name = "worker"
    static let summary = "compute tasks for a `hutch coordinator` until its job is complete"
    static let usage = "--connect tcp://HOST:PORT [--curve-key W.key --coordinator-key C.pub] [--threads T] [--name NAME]"
    static let flags: [Arguments.Flag] = [
        .option("connect", "ENDPOINT", "the coordinator's endpoint, tcp://HOST:PORT (required)"),
        .option("threads", "T", "compute threads (default: all cores)"),
        .option("parent", "PID", "exit when process PID (the `hutch run` that started this worker) is gone"),
        .option("cache", "DIR", "keep fetched model and data blobs in DIR (by digest) for later jobs and restarts"),
        .toggle("fetch-blobs", "fetch model and data from the coordinator by digest (no shared filesystem)"),
        .option("name", "NAME", "name shown by the coordinator (default: host name and process id)"),
    ] + ClusterSecurity.clientFlags

    static func run(_ arguments: Arguments) throws {
        let endpoint = try arguments.endpoint("connect")
        let curve = try ClusterSecurity.client(arguments)
        let threads = try arguments.int("threads", range: 1...1024)
        if let threads { Kernels.setThreads(threads) }
        let name = arguments.string("name") ?? "\(ProcessInfo.processInfo.hostName.prefix(40))-\(getpid())"
        guard (1...64).contains(name.utf8.count), !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw CommandFailure(.usage, "--name must be 1-64 bytes without control characters")
        }
        var config = WorkerConfig(name: name, instance: UInt64.random(in: 1...UInt64.max))
        config.threads = UInt32(threads ?? ProcessInfo.processInfo.activeProcessorCount)
        config.sharedFilesystem = !arguments.has("fetch-blobs")
        var core = WorkerCore(config: config)
        let cacheDirectory = arguments.string("cache")
        if let cacheDirectory { try BlobCache.load(cacheDirectory, into: &core) }
        let cache = RunnerCache()
        let parent = try arguments.int("parent", range: 1...Int(Int32.max)).map { pid_t($0) }
        let client = WorkerClient(connect: endpoint, curve: curve) { request in cache.compute(request) }
        if let parent {
            // an orphaned local worker would otherwise reconnect forever
            client.orphaned = { getppid() != parent }
        }
        client.fetched = { digest, bytes in
            log("worker \(name): fetched blob \(digest) (\(bytes.count) bytes)")
            if let cacheDirectory { BlobCache.store(digest, bytes, in: cacheDirectory) }
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

/// The loaded model and data of the current job; touched by the compute thread only.
final class RunnerCache: @unchecked Sendable {
    var spec: [UInt8] = []
    var runner: TaskRunner?

    var quantizeModel: (path: String, graph: Graph)?

    func compute(_ request: ComputeRequest) -> ComputeOutcome {
        let task: SensitivityTask?
        switch request.work {
        case .sensitivity(let t): task = t
        case .eigenvalue: task = nil
        case .quantize(let layer): return quantize(layer, request.spec, request.blobs)
        case .quantizationError(let layer): return quantizationErrors(layer, request.spec, request.blobs)
        }
        if runner == nil || spec != request.spec {
            runner = nil
            do {
                let work = try JSONDecoder().decode(SensitivityWorkSpec.self, from: Data(request.spec))
                runner = try load(work, blobs: request.blobs)
                spec = request.spec
            } catch {
                return .failure(.retryable, "cannot load the task's model or data: \(describe(error).message)")
            }
        }
        guard let runner else { return .failure(.retryable, "no model loaded") }
        do {
            if case .eigenvalue(let layer, let iterations) = request.work {
                guard runner.layers.indices.contains(layer) else { return .failure(.poison, "layer \(layer) is not a layer of the job") }
                return .eigenvalue(layer: layer, try runner.topEigenvalue(layer: layer, maxIterations: iterations))
            }
            guard let task else { return .failure(.poison, "no task") }
            return .success(try runner.run(task))
        } catch {
            return .failure(.poison, describe(error).message)
        }
    }

    /// The model of a quantize or quantization-error task, cached by path.
    func model(_ path: String, digest: String?, _ blobs: [WireDigest: [UInt8]]) throws -> Graph {
        if let cached = quantizeModel, cached.path == path { return cached.graph }
        let graph = try ONNXLoader.load(bytes: try Self.file(path, digest: digest, blobs, what: "model"), source: path)
        quantizeModel = (path, graph)
        return graph
    }

    func quantizationErrors(_ layer: Int, _ specBytes: [UInt8], _ blobs: [WireDigest: [UInt8]]) -> ComputeOutcome {
        let spec: QuantizationErrorWorkSpec
        let graph: Graph
        do {
            spec = try JSONDecoder().decode(QuantizationErrorWorkSpec.self, from: Data(specBytes))
            graph = try model(spec.modelPath, digest: spec.modelDigest, blobs)
        } catch {
            return .failure(.retryable, "cannot load the task's model: \(describe(error).message)")
        }
        let layers = graph.quantizableLayers
        guard layers.indices.contains(layer) else { return .failure(.poison, "layer \(layer) is not a quantizable layer of the model") }
        do {
            let errors = try QuantizationErrors.compute(graph, layer: layers[layer], bits: spec.bits)
            return .errors(layer: layer, spec.bits.map { errors[$0] ?? .nan })
        } catch {
            return .failure(.poison, describe(error).message)
        }
    }

    func quantize(_ layer: Int, _ specBytes: [UInt8], _ blobs: [WireDigest: [UInt8]]) -> ComputeOutcome {
        let spec: QuantizeWorkSpec
        let graph: Graph
        do {
            spec = try JSONDecoder().decode(QuantizeWorkSpec.self, from: Data(specBytes))
            if let cached = quantizeModel, cached.path == spec.modelPath {
                graph = cached.graph
            } else {
                let bytes = try Self.file(spec.modelPath, digest: spec.modelDigest, blobs, what: "model")
                graph = try ONNXLoader.load(bytes: bytes, source: spec.modelPath)
                quantizeModel = (spec.modelPath, graph)
            }
        } catch {
            return .failure(.retryable, "cannot load the quantize task's model: \(describe(error).message)")
        }
        do {
            return .quantized(body: try QuantizeBodies.resultBody(try spec.task(layer: layer, graph: graph).run()))
        } catch {
            return .failure(.poison, describe(error).message)
        }
    }

    func load(_ work: SensitivityWorkSpec, blobs: [WireDigest: [UInt8]]) throws -> TaskRunner {
        let source = work.source
        func file(_ path: String, _ what: String) throws -> [UInt8] {
            try Self.file(path, digest: source.digests[path], blobs, what: what)
        }
        let graph = try ONNXLoader.load(bytes: try file(source.modelPath, "model"), source: source.modelPath)
        let dataset: Dataset
        if let npz = source.dataNPZ {
            dataset = try Dataset(npz: try file(npz, "data"), source: npz)
        } else if let xPath = source.inputsNPY, let yPath = source.labelsNPY {
            dataset = try Dataset(inputs: try NumPyArray(npy: try file(xPath, "inputs"), source: xPath),
                                  labels: try NumPyArray(npy: try file(yPath, "labels"), source: yPath),
                                  inputsName: xPath, labelsName: yPath)
        } else {
            throw CommandFailure(.usage, "the task names no data file")
        }
        return try TaskRunner(graph: graph, dataset: dataset, job: work.job, probesPerCall: work.probesPerCall)
    }

    /// A fetched blob when the task's digest names one, else the file at the shared path.
    static func file(_ path: String, digest: String?, _ blobs: [WireDigest: [UInt8]], what: String) throws -> [UInt8] {
        if let digest, let d = WireDigest(digest), let bytes = blobs[d] { return bytes }
        return try readInput(path, what: what)
    }
}

/// Fetched blobs on disk: DIR/<64 hex digits>, verified when loaded.
enum BlobCache {
    static func load(_ directory: String, into core: inout WorkerCore) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw CommandFailure(.io, "cannot create the cache directory '\(directory)': \((error as NSError).localizedDescription)")
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names where name.count == 64 {
            guard let digest = WireDigest("sha256:" + name),
                  let data = FileManager.default.contents(atPath: URL(fileURLWithPath: directory).appendingPathComponent(name).path) else { continue }
            if !core.preload(digest, [UInt8](data)) {
                log("cache: \(directory)/\(name) does not match its digest; ignored")
            }
        }
    }

    static func store(_ digest: WireDigest, _ bytes: [UInt8], in directory: String) {
        let name = String(digest.description.dropFirst("sha256:".count))
        do {
            try writeAtomically(Data(bytes), to: URL(fileURLWithPath: directory).appendingPathComponent(name).path)
        } catch {
            log("cache: cannot keep blob \(digest) in \(directory): \(describe(error).message)")
        }
    }
}
