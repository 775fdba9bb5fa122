import Foundation
import HutchClusterCore
import HutchModel
import HutchSensitivity

/// A simulated job's files as its workers read them: the model and data bytes under the paths the
/// task specs name, served from memory through the dispatcher's injected reader.
struct SimulationInputs: Sendable {
    static let modelPath = "sim/model.onnx", dataPath = "sim/data.npz"
    /// The sensitivity tasks' source: the model and one .npz.
    static let source = ModelSource(modelPath: modelPath, dataNPZ: dataPath)

    var job: SensitivityJob
    var probesPerCall: Int
    var files: [String: [UInt8]]

    init(model: URL, data: URL, job: SensitivityJob, probesPerCall: Int) throws {
        self.job = job
        self.probesPerCall = probesPerCall
        files = [Self.modelPath: [UInt8](try Data(contentsOf: model)), Self.dataPath: [UInt8](try Data(contentsOf: data))]
    }

    /// A path the job does not name is unreadable, as a missing file is for a worker process.
    var read: TaskFileReader {
        let files = files
        return { path, what in
            guard let bytes = files[path] else {
                throw ModelError.unreadableFile(path: path, reason: "cannot read the \(what) file: not a file of the simulated job")
            }
            return bytes
        }
    }
}
