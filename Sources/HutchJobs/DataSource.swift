import Foundation
import HutchCluster
import HutchModel

/// Where a job's calibration data comes from: one .npz with arrays x and y, or two .npy files.
/// Every command that takes data takes it this way, and every job loads it through here.
public enum DataSource: Equatable, Sendable {
    case npz(String)
    case npy(inputs: String, labels: String)

    /// The source the data flags name (--data, or --inputs with --labels); nil when none is given.
    public init?(data: String?, inputs: String?, labels: String?) throws {
        if data != nil && (inputs != nil || labels != nil) {
            throw CommandFailure(.usage, "give either --data D.npz or --inputs X.npy --labels Y.npy, not both")
        }
        if (inputs == nil) != (labels == nil) {
            throw CommandFailure(.usage, "--inputs and --labels go together: give both .npy files")
        }
        if let data {
            self = .npz(data)
        } else if let inputs, let labels {
            self = .npy(inputs: inputs, labels: labels)
        } else {
            return nil
        }
    }

    /// The files in the order their digests are listed: the .npz, or inputs then labels.
    public var paths: [String] {
        switch self {
        case .npz(let path): return [path]
        case .npy(let x, let y): return [x, y]
        }
    }

    /// How log lines name the data.
    public var description: String { paths.joined(separator: " + ") }

    /// The data set and the digest of the files' bytes (of the two .npy files, inputs first).
    public func load() throws -> (dataset: Dataset, digest: String) {
        var files: [[UInt8]] = []
        let dataset = try self.dataset { path, what in
            files.append([UInt8](try readFile(path, what: what)))
            return files[files.count - 1]
        }
        return (dataset, Digest.sha256(files.count == 1 ? files[0] : files.flatMap { $0 }))
    }

    /// The data set from the bytes `read` gives for each path ("data", "inputs" or "labels" say what it is).
    public func dataset(read: (_ path: String, _ what: String) throws -> [UInt8]) throws -> Dataset {
        switch self {
        case .npz(let path):
            return try Dataset(npz: try read(path, "data"), source: path)
        case .npy(let inputsPath, let labelsPath):
            let x = try read(inputsPath, "inputs"), y = try read(labelsPath, "labels")
            return try Dataset(inputs: try NumPyArray(npy: x, source: inputsPath), labels: try NumPyArray(npy: y, source: labelsPath),
                               inputsName: inputsPath, labelsName: labelsPath)
        }
    }
}

extension DataSource {
    /// The data a cluster task names (nil when it names none).
    init?(_ source: ModelSource) {
        if let npz = source.dataNPZ {
            self = .npz(npz)
        } else if let inputs = source.inputsNPY, let labels = source.labelsNPY {
            self = .npy(inputs: inputs, labels: labels)
        } else {
            return nil
        }
    }
}
