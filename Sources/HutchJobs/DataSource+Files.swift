import Foundation
import HutchClusterCore
import HutchModel

/// How commands name their data and jobs load it: every command that takes data takes --data
/// D.npz or --inputs X.npy --labels Y.npy, and every job reads the files through `load`.
extension DataSource {
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

    /// The data set and the digest of the files' bytes (of the two .npy files, inputs first),
    /// both read a chunk at a time: memory holds the data set's floats and labels, not the files.
    /// With `keepingExamples: n` it holds the first n examples only (`count` is then at most n;
    /// `examplesInFiles` says how many the files hold). `files` keeps them open for later reads.
    public func load(keepingExamples: Int? = nil, files: OpenDataFiles = OpenDataFiles()) throws -> (dataset: Dataset, digest: String) {
        var opened: [any ByteSource] = []
        let dataset = try self.dataset(keepingExamples: keepingExamples) { path, what in
            let file = try files.open(path, what: what)
            opened.append(file)
            return file
        }
        return (dataset, try Digest.sha256(of: opened))
    }
}

/// A job's data files, each opened once and kept open for the job, so that reading them again
/// (the coordinator's calibration windows) reads what was loaded even if a path is removed or
/// replaced meanwhile. A file that is no regular file (a pipe) is held as its bytes.
public final class OpenDataFiles {
    private var files: [String: any ByteSource] = [:]

    public init() {}

    /// `path`, read a chunk at a time (whole only where it cannot be opened so); "data",
    /// "inputs" or "labels" say in messages what it is.
    func open(_ path: String, what: String) throws -> any ByteSource {
        if let file = files[path] { return file }
        let file = try FileByteSource.open(path) { [UInt8](try readFile($0, what: what)) }
        files[path] = file
        return file
    }
}
