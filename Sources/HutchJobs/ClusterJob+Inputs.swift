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

    /// The model and data `files` as served to `--fetch-blobs` workers, each read a chunk at a
    /// time; records each file's digest in `source` (the model file's is `modelDigest`, of the
    /// bytes the coordinator loaded). A model with external data is served as its self-contained
    /// copy (`SelfContainedModel`), written to the state directory: the caller removes it.
    static func servedBlobs(_ files: [String], source: inout ModelSource, proto: ONNXModelProto,
                            path: String, modelDigest: String, stateDirectory: String) throws -> (ServedBlobFiles, String?) {
        var served = ServedBlobFiles()
        var copy: String?
        do {
            for file in files {
                let selfContained = file == source.modelPath ? try SelfContainedModel.write(proto, path: path, stateDirectory: stateDirectory) : nil
                copy = selfContained?.path ?? copy
                source.digests[file] = try served.add(selfContained?.path ?? file,
                                                      digest: selfContained?.digest ?? (file == source.modelPath ? modelDigest : nil))
            }
        } catch {
            if let copy { try? FileManager.default.removeItem(atPath: copy) }
            throw error
        }
        return (served, copy)
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
