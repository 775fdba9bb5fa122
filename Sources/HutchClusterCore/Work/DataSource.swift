import HutchModel

/// The calibration data of a job: one .npz with arrays x and y, or two .npy files. Tasks carry
/// it as ModelSource's data paths; the coordinator and the workers make every Dataset here.
public enum DataSource: Equatable, Sendable {
    case npz(String)
    case npy(inputs: String, labels: String)

    /// The data a cluster task names (nil when it names none).
    public init?(_ source: ModelSource) {
        if let npz = source.dataNPZ {
            self = .npz(npz)
        } else if let inputs = source.inputsNPY, let labels = source.labelsNPY {
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

    /// The data set from the files `open` gives for each path ("data", "inputs" or "labels" say
    /// what it is), read a chunk at a time into the inputs' floats (`Dataset+Streaming`); with
    /// `keepingExamples: n`, `prefix(n)` of it, holding the floats of n examples only.
    public func dataset(keepingExamples: Int? = nil, open: (_ path: String, _ what: String) throws -> any ByteSource) throws -> Dataset {
        try dataset(examples: keepingExamples.map { 0..<$0 }, open: open)
    }

    /// The data set holding examples `examples` only (nil: all), every element read and checked.
    public func dataset(examples: Range<Int>?, open: (_ path: String, _ what: String) throws -> any ByteSource) throws -> Dataset {
        switch self {
        case .npz(let path):
            return try Dataset(npz: try open(path, "data"), source: path, examples: examples)
        case .npy(let inputsPath, let labelsPath):
            let x = try open(inputsPath, "inputs"), y = try open(labelsPath, "labels")
            return try Dataset(inputs: x, labels: y, inputsName: inputsPath, labelsName: labelsPath, examples: examples)
        }
    }

    /// The data set from the bytes `read` gives for each path, held in memory (tests).
    public func dataset(read: (_ path: String, _ what: String) throws -> [UInt8]) throws -> Dataset {
        try dataset { path, what in ByteArraySource(try read(path, what)) }
    }
}
