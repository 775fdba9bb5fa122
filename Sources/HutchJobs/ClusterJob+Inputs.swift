import Foundation
import HutchCluster
import HutchClusterCore
import HutchModel
import HutchSensitivity
import HutchWire

extension ClusterJob {
    /// The model and data as workers see them: absolute paths, for workers in another directory.
    static func source(_ inputs: JobInputs) -> ModelSource {
        func absolute(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }
        var source = switch inputs.data {
        case .npz(let path): ModelSource(modelPath: absolute(inputs.model), dataNPZ: absolute(path))
        case .npy(let x, let y): ModelSource(modelPath: absolute(inputs.model), inputsNPY: absolute(x), labelsNPY: absolute(y))
        }
        source.loss = inputs.loss
        return source
    }

    /// The model as a worker without the shared filesystem receives it: nil for the file itself,
    /// or with external data the model re-encoded with every tensor inside (under protobuf's 2 GB
    /// limit; a larger one is refused, such workers need the shared filesystem).
    static func selfContained(_ proto: ONNXModelProto, path: String) throws -> [UInt8]? {
        guard !ExternalDataFiles.locations(of: proto).isEmpty else { return nil }
        let inlined = try ExternalDataFiles(modelPath: path).inlined(proto).encoded()
        guard inlined.count < Int(Int32.max) else {
            throw CommandFailure(.invalidModel, "\(path) with its external data is \(inlined.count) bytes, over protobuf's 2 GB limit: serving it to --fetch-blobs workers is not supported yet; put the model on a filesystem every worker shares")
        }
        return inlined
    }

    /// The model and data `files` as served to `--fetch-blobs` workers, each read a chunk at a
    /// time; records each file's digest in `source` (the model file's is `modelDigest`, of the
    /// bytes the coordinator loaded). A self-contained model (external data inlined) is written
    /// to a temporary directory and served from there: the caller removes it.
    static func servedBlobs(_ files: [String], source: inout ModelSource, proto: ONNXModelProto,
                            path: String, modelDigest: String) throws -> (ServedBlobFiles, DirectoryBlobStore?) {
        var served = ServedBlobFiles()
        var temporary: DirectoryBlobStore?
        do {
            for file in files {
                let inlined = file == source.modelPath ? try selfContained(proto, path: path) : nil
                guard let inlined, let d = WireDigest(Digest.sha256(inlined)) else {
                    source.digests[file] = try served.add(file, digest: file == source.modelPath ? modelDigest : nil)
                    continue
                }
                let store = try DirectoryBlobStore.temporary()
                temporary = store
                try store.put(d, inlined)
                source.digests[file] = try served.add(store.path(d), digest: d.description)
            }
        } catch let error as BlobCacheError {
            temporary?.remove()
            throw CommandFailure(.io, "cannot keep the self-contained model to serve: \(error)")
        } catch {
            temporary?.remove()
            throw error
        }
        return (served, temporary)
    }

    /// job.json's content: the input digests and every option that determines the outputs.
    static func jobDocument(planFlags: [String: String], options: TraceOptions, activations: Bool = false, measured: Bool = false,
                            source: ModelSource, files: [String],
                            schedule: JobDocument.Schedule) throws -> JobDocument {
        var plan = planFlags
        if let table = plan["latency-table"] { plan["latency-table"] = Digest.sha256(try readFile(table, what: "latency table")) }
        var trace = JobDocument.Trace(options)
        if activations { trace.activations = true }
        if measured { trace.measured = true }
        let job = JobDocument.Job(hutchVersion: hutchVersion, modelDigest: source.digests[source.modelPath] ?? "",
                                  dataDigests: files.dropFirst().map { source.digests[$0] ?? "" },
                                  trace: trace, plan: plan, loss: source.loss)
        return JobDocument(job: job, inputs: ["model": [source.modelPath], "data": Array(files.dropFirst())], schedule: schedule)
    }

    /// Every output is written: the journal says so, durably.
    static func complete(_ state: StateDirectory, _ left: ArraySlice<JournalRecord>) throws {
        guard left.isEmpty else {
            throw CommandFailure(.state, "\(state.file("journal")): \(left.count) records follow the end of the job; the journal does not belong to this job")
        }
        guard !state.complete else { return }   // outputs written again from a complete journal
        try state.journal.append(.jobComplete, now: MonotonicClock.nowMs)
        try state.journal.sync()
    }
}
