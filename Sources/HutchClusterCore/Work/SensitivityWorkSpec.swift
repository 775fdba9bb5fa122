import Foundation
import HutchSensitivity

/// Where a worker finds the model and the data: paths on a filesystem it shares with the
/// coordinator (blob transfer by digest replaces this later).
public struct ModelSource: Codable, Sendable, Hashable {
    public var modelPath: String
    /// .npz with arrays x and y, or else the two .npy files.
    public var dataNPZ: String?
    public var inputsNPY: String?
    public var labelsNPY: String?
    /// SHA-256 ("sha256:…") of each file above, in the same order: the blobs a worker without
    /// the shared filesystem fetches instead of reading the path.
    public var digests: [String: String]
    /// The loss head `--loss` named (nil: chosen by the labels), so every worker checks the same.
    public var loss: String?

    public init(modelPath: String, dataNPZ: String? = nil, inputsNPY: String? = nil, labelsNPY: String? = nil,
                digests: [String: String] = [:]) {
        self.modelPath = modelPath; self.dataNPZ = dataNPZ; self.inputsNPY = inputsNPY; self.labelsNPY = labelsNPY
        self.digests = digests
    }
}

/// Everything a worker needs besides a task's ranges to compute it: the job, the inputs, and
/// the probe stacking (speed only). Sent in every sensitivity TASK body; workers cache the
/// loaded model by it.
public struct SensitivityWorkSpec: Codable, Sendable, Hashable {
    public var job: SensitivityJob
    public var source: ModelSource
    public var probesPerCall: Int

    public init(job: SensitivityJob, source: ModelSource, probesPerCall: Int) {
        self.job = job; self.source = source; self.probesPerCall = probesPerCall
    }

    /// Canonical JSON (sorted keys): the bytes the job digest is taken over.
    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // a struct of strings and integers always encodes
        return (try? [UInt8](encoder.encode(self))) ?? []
    }
}
