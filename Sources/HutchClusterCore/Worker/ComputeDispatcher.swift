import Foundation
import HutchModel
import HutchQuantize
import HutchSensitivity
import HutchWire

/// Reads a file a task names, or the fetched blob that stands in for it where the worker's
/// `FetchedBlobStore` holds it ("model", "data", "inputs" or "labels" say what it is): the
/// worker's shell reads the path, the simulator serves bytes from memory.
public typealias TaskFileReader = (_ path: String, _ what: String) throws -> [UInt8]
/// `TaskFileReader` for the model: the worker process maps the file instead of reading it.
public typealias TaskModelReader = (_ path: String, _ what: String) throws -> ByteStorage

/// Opens a data file a task names, or the fetched blob that stands in for it, to be read a chunk
/// at a time ("data", "inputs" or "labels" say what it is).
public typealias TaskFileOpener = (_ path: String, _ what: String) throws -> any ByteSource

/// A worker's compute dispatch: runs each leased task on the model and data of its job, loaded
/// once and kept while the tasks name them. Pure but for `read`; touched by one thread at a time.
public final class ComputeDispatcher: @unchecked Sendable {
    let read: TaskFileReader
    let open: TaskFileOpener
    let readModel: TaskModelReader
    var spec: [UInt8] = []
    var runner: TaskRunner?
    var quantizeModel: (path: String, graph: Graph)?
    /// The worker's `--memory` stacking budget (`MemoryBudget.stackBytes`); nil: the fixed default.
    public var stackBudgetBytes: Int?
    /// The worker's `--memory` (`TaskRunner.memoryBytes`: Hutchinson's chunks in flight); nil: no bound.
    public var memoryBytes: Int?

    /// Without `open`, data files are read whole through `read`; without `readModel`, the
    /// model's bytes are `read`'s (copied into a storage).
    public init(read: @escaping TaskFileReader, open: TaskFileOpener? = nil, readModel: TaskModelReader? = nil) {
        self.read = read
        self.open = open ?? { path, what in ByteArraySource(try read(path, what)) }
        self.readModel = readModel ?? { ByteStorage(copying: try read($0, $1)) }
    }

    public func compute(_ request: ComputeRequest) -> ComputeOutcome {
        let task: SensitivityTask?
        switch request.work {
        case .sensitivity(let t): task = t
        case .eigenvalue, .activation, .measured: task = nil
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
                return .failure(.retryable, "cannot load the task's model or data: \(error)")
            }
        }
        guard let runner else { return .failure(.retryable, "no model loaded") }
        do {
            if case .eigenvalue(let layer, let iterations) = request.work {
                guard runner.layers.indices.contains(layer) else { return .failure(.poison, "layer \(layer) is not a layer of the job") }
                return .eigenvalue(layer: layer, try runner.topEigenvalue(layer: layer, maxIterations: iterations))
            }
            if case .activation(let t) = request.work {
                let values = try runner.activationValues(t)
                return .activation(SensitivityTaskResult(task: t, exampleCounts: t.batches.map { runner.job.examples(ofBatch: $0).count },
                                                         values: values))
            }
            if case .measured(let t) = request.work {
                return .measured(t, exampleCounts: t.batches.map { runner.job.examples(ofBatch: $0).count }, try runner.measuredLossSums(t))
            }
            guard let task else { return .failure(.poison, "no task") }
            return .success(try runner.run(task))
        } catch let error as SensitivityError where error.kind == .memory {
            return .failure(.retryable, "\(error)")   // this worker's --memory, not the task: another worker may fit it
        } catch {
            return .failure(.poison, "\(error)")
        }
    }

    /// The model of a quantize or quantization-error task, cached by path.
    func model(_ path: String, digest: String?, _ blobs: [WireDigest: String]) throws -> Graph {
        if let cached = quantizeModel, cached.path == path { return cached.graph }
        let graph = try ONNXLoader.load(storage: try modelBytes(path, digest: digest, blobs), source: path)
        quantizeModel = (path, graph)
        return graph
    }

    func quantizationErrors(_ layer: Int, _ specBytes: [UInt8], _ blobs: [WireDigest: String]) -> ComputeOutcome {
        withModel(QuantizationErrorWorkSpec.self, specBytes, blobs, failure: "cannot load the task's model") { spec, graph in
            let layers = graph.quantizableLayers
            guard layers.indices.contains(layer) else { return .failure(.poison, "layer \(layer) is not a quantizable layer of the model") }
            let errors = try QuantizationErrors.compute(graph, layer: layers[layer], bits: spec.bits)
            return .errors(layer: layer, spec.bits.map { errors[$0] ?? .nan })
        }
    }

    func quantize(_ layer: Int, _ specBytes: [UInt8], _ blobs: [WireDigest: String]) -> ComputeOutcome {
        withModel(QuantizeWorkSpec.self, specBytes, blobs, failure: "cannot load the quantize task's model") { spec, graph in
            .quantized(body: try QuantizeBodies.resultBody(try spec.task(layer: layer, graph: graph).run()))
        }
    }

    /// Decodes a model task's spec and loads its model, then computes. A load failure is
    /// retryable (another worker may read the files); a compute failure is poison (the task is bad).
    private func withModel<Spec: ModelWorkSpec>(_ type: Spec.Type, _ specBytes: [UInt8], _ blobs: [WireDigest: String], failure: String,
                                                compute: (Spec, Graph) throws -> ComputeOutcome) -> ComputeOutcome {
        let spec: Spec
        let graph: Graph
        do {
            spec = try JSONDecoder().decode(Spec.self, from: Data(specBytes))
            graph = try model(spec.modelPath, digest: spec.modelDigest, blobs)
        } catch {
            return .failure(.retryable, "\(failure): \(error)")
        }
        do {
            return try compute(spec, graph)
        } catch {
            return .failure(.poison, "\(error)")
        }
    }

    func load(_ work: SensitivityWorkSpec, blobs: [WireDigest: String]) throws -> TaskRunner {
        let source = work.source
        func sourceFile(_ path: String, _ what: String) throws -> [UInt8] {
            try file(path, digest: source.digests[path], blobs, what: what)
        }
        let graph = try ONNXLoader.load(storage: try modelBytes(source.modelPath, digest: source.digests[source.modelPath], blobs),
                                        source: source.modelPath)
        guard let data = DataSource(source) else {
            throw BodyError("the task names no data file")
        }
        // Tasks read examples 0..<samples only (`TaskRunner.batch`): the rest are checked, not kept.
        let dataset = try data.dataset(keepingExamples: work.job.samples) { path, what in
            try open(located(path, digest: source.digests[path], blobs), what)
        }.requiring(loss: source.loss)
        var runner = try TaskRunner(graph: graph, dataset: dataset, job: work.job, probesPerCall: work.probesPerCall)
        if let stackBudgetBytes { runner.stackBudgetBytes = stackBudgetBytes }
        runner.memoryBytes = memoryBytes
        return runner
    }

    /// The fetched blob where the worker's store holds it when the task's digest names one,
    /// else the task's path, both through `read`.
    func file(_ path: String, digest: String?, _ blobs: [WireDigest: String], what: String) throws -> [UInt8] {
        try read(located(path, digest: digest, blobs), what)
    }

    /// `file` for the model, through `readModel`.
    func modelBytes(_ path: String, digest: String?, _ blobs: [WireDigest: String]) throws -> ByteStorage {
        try readModel(located(path, digest: digest, blobs), "model")
    }

    /// Where the file a task names is read: the fetched blob of its digest, else its path.
    func located(_ path: String, digest: String?, _ blobs: [WireDigest: String]) -> String {
        if let digest, let d = WireDigest(digest), let held = blobs[d] { return held }
        return path
    }
}

/// A task spec that names one model (quantize and quantization-error tasks).
protocol ModelWorkSpec: Decodable {
    var modelPath: String { get }
    var modelDigest: String? { get }
}

extension QuantizeWorkSpec: ModelWorkSpec {}
extension QuantizationErrorWorkSpec: ModelWorkSpec {}
