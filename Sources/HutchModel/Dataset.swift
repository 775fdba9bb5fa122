import Foundation
import HutchTensor

/// Calibration data: inputs [N, ...] as float32 and one integer class label per example.
/// Built only through the validating initializers, so a `Dataset` is never empty, holds no
/// NaN/Inf, and its labels are non-negative.
public struct Dataset: Sendable {
    public private(set) var inputs: Tensor<Float>
    public private(set) var labels: [Int]
    /// The inputs came as integers (token ids), held as exact floats.
    public private(set) var holdsTokenIDs = false

    public var count: Int { labels.count }
    /// The shape of one example (inputs.shape without the batch dimension).
    public var exampleShape: [Int] { Array(inputs.shape.dropFirst()) }

    /// Checks and converts the two arrays; the names say where they came from in messages.
    public init(inputs x: NumPyArray, labels y: NumPyArray, inputsName: String, labelsName: String) throws {
        let ids = x.integers()
        guard x.dtype == .float32 || ids != nil else {
            throw ModelError.invalidData("\(inputsName) has dtype \(x.dtype.name); inputs must be float32, or integer token ids; convert with x.astype(numpy.float32)")
        }
        if let ids, let bad = ids.firstIndex(where: { abs($0) >= 1 << 24 }) {
            throw ModelError.invalidData("\(inputsName) has token id \(ids[bad]) at flat index \(bad); Hutch carries ids as exact float32, below 2^24")
        }
        holdsTokenIDs = ids != nil
        guard x.shape.count >= 1, x.shape[0] > 0, x.count > 0 else {
            throw ModelError.invalidData("\(inputsName) is empty (shape \(x.shape)); Hutch needs at least one example")
        }
        guard let rawLabels = y.integers() else {
            throw ModelError.invalidData("\(labelsName) has dtype \(y.dtype.name); labels must be integer class indices (int64, int32 or uint8)")
        }
        guard y.shape.count == 1 || (y.shape.count == 2 && y.shape[1] == 1) else {
            throw ModelError.invalidData("\(labelsName) has shape \(y.shape); labels must be one class index per example, shape [\(x.shape[0])]")
        }
        guard y.shape[0] == x.shape[0] else {
            throw ModelError.invalidData("\(labelsName) has \(y.shape[0]) labels but \(inputsName) has \(x.shape[0]) examples")
        }
        if let bad = x.firstNonFinite() {
            let perExample = max(1, x.count / x.shape[0])
            throw ModelError.invalidData("\(inputsName) has NaN or infinity at flat index \(bad) (example \(bad / perExample)); clean the data")
        }
        var labels: [Int] = []
        labels.reserveCapacity(rawLabels.count)
        for (index, label) in rawLabels.enumerated() {
            guard label >= 0, label <= Int64(Int32.max) else {
                throw ModelError.invalidData("\(labelsName) has label \(label) at index \(index); labels must be class indices 0, 1, ...")
            }
            labels.append(Int(label))
        }
        self.inputs = Tensor(shape: x.shape, data: x.floats())
        self.labels = labels
    }

    /// Loads an .npz with arrays `x` (inputs) and `y` (labels).
    public init(npz url: URL) throws {
        try self.init(npz: try ONNXLoader.readFile(url), source: url.path)
    }

    /// An .npz's bytes with arrays `x` (inputs) and `y` (labels); `source` names it in messages.
    public init(npz bytes: [UInt8], source: String) throws {
        let arrays = try NumPyArchive.readNPZ(bytes, source: source)
        guard let x = arrays["x"], let y = arrays["y"] else {
            let names = arrays.keys.sorted().map { "'\($0)'" }.joined(separator: ", ")
            throw ModelError.invalidData("\(source): needs arrays 'x' (inputs) and 'y' (labels) but holds \(names.isEmpty ? "none" : names); save with numpy.savez(path, x=inputs, y=labels)")
        }
        try self.init(inputs: x, labels: y, inputsName: "\(source) array 'x'", labelsName: "\(source) array 'y'")
    }

    /// Loads inputs and labels from two .npy files.
    public init(inputs: URL, labels: URL) throws {
        try self.init(inputs: try NumPyArchive.readNPY(contentsOf: inputs), labels: try NumPyArchive.readNPY(contentsOf: labels),
                      inputsName: inputs.path, labelsName: labels.path)
    }

    /// Checks the data against the model: per-example shape equals the model input's, and every
    /// label is below the number of classes (the logits' second dimension).
    public func validate(against graph: Graph, modelName: String = "the model") throws {
        let inputValue = graph.values[graph.input.index]
        let expected = (inputValue.shape ?? []).dropFirst().map { $0 ?? -1 }
        guard holdsTokenIDs == graph.inputHoldsTokenIDs else {
            throw ModelError.invalidData(graph.inputHoldsTokenIDs
                ? "\(modelName) input '\(inputValue.name)' takes integer token ids but the inputs are float32; save them as int64"
                : "the inputs are integers but \(modelName) input '\(inputValue.name)' is float32; convert with x.astype(numpy.float32)")
        }
        guard expected == exampleShape else {
            throw ModelError.invalidData("inputs have per-example shape \(exampleShape) but \(modelName) input '\(inputValue.name)' expects \(expected); reshape the data to [N, \(expected.map(String.init).joined(separator: ", "))]")
        }
        guard let classes = graph.classCount else {
            throw ModelError.invalidData("\(modelName) output has no static class count")
        }
        if let bad = labels.firstIndex(where: { $0 >= classes }) {
            throw ModelError.invalidData("label \(labels[bad]) at index \(bad) is out of range: \(modelName) has \(classes) classes (0...\(classes - 1))")
        }
    }

    /// The first `n` examples (all of them when n >= count); n must be positive.
    public func prefix(_ n: Int) -> Dataset {
        let kept = Swift.max(1, Swift.min(n, count))
        var copy = self
        let perExample = inputs.count / Swift.max(1, count)
        copy.inputs = Tensor(shape: [kept] + exampleShape, data: Array(inputs.data[..<(kept * perExample)]))
        copy.labels = Array(labels[..<kept])
        return copy
    }
}
