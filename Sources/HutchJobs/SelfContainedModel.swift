import Foundation
import HutchModel

/// The copy of a model with external data that `--fetch-blobs` workers receive: the model
/// re-encoded with every tensor inside (`ExternalDataFiles.inlined`, whose raw data are slices of
/// the mapped data files), streamed a tensor at a time to `served-model.onnx` in the state
/// directory and hashed on the way, so neither the copy nor any whole tensor is held in memory
/// (nor in a temporary directory, which may itself be memory). Its bytes are `encoded()`'s.
enum SelfContainedModel {
    static let fileName = "served-model.onnx"

    /// The copy's path and SHA-256, or nil for a model without external data (served as it is).
    /// Refused over protobuf's 2 GB limit, before anything is written.
    static func write(_ proto: ONNXModelProto, path: String, stateDirectory: String) throws -> (path: String, digest: String)? {
        guard !ExternalDataFiles.locations(of: proto).isEmpty else { return nil }
        let inlined = try ExternalDataFiles(modelPath: path).inlined(proto)
        let size = inlined.streamedByteCount()
        guard size < Int(Int32.max) else {
            throw CommandFailure(.invalidModel, "\(path) with its external data is \(size) bytes, over protobuf's 2 GB limit: serving it to --fetch-blobs workers is not supported yet; put the model on a filesystem every worker shares")
        }
        let served = URL(fileURLWithPath: stateDirectory).appendingPathComponent(fileName).path
        var digest = ""
        do {
            try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
            try writeAllOrNothing([StagedOutput(path: served) { file in
                var sink = DigestingSink(file)
                try inlined.stream(into: &sink)
                file = sink.inner
                digest = sink.hash.finish()
            }])
        } catch {
            throw CommandFailure(.io, "cannot keep the self-contained model to serve: \(error)")
        }
        return (served, digest)
    }
}
