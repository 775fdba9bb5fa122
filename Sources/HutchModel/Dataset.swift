import Foundation
import HutchTensor

/// Calibration data: inputs [N, ...] as float32 (several named inputs packed as [N, F],
/// `DataInput`) and one integer class label per example.
/// Built only through the validating initializers, so a `Dataset` is never empty, holds no
/// NaN/Inf, and its labels are non-negative.
public struct Dataset: Sendable {
    public private(set) var inputs: Tensor<Float>
    /// What the loss compares the output with: class labels, token labels or float targets.
    public private(set) var targets: LossTargets
    /// Where the labels came from, for messages ("D.npz array 'y'", a .npy path).
    private var labelsSource = "the labels"
    /// The class labels (classification; empty for the other loss heads).
    public var labels: [Int] {
        if case .classes(let y) = targets { return y }
        return []
    }
    /// The inputs came as integers (token ids), held as exact floats.
    public private(set) var holdsTokenIDs = false
    /// The named arrays `inputs` packs, in packing order (`DataInput`); empty when the inputs are
    /// one unnamed array (`x`, or --inputs X.npy).
    public private(set) var parts: [DataInput] = []

    public var count: Int { inputs.shape[0] }
    /// The examples in the files, of which this data set may hold a window only (`Dataset+Streaming`).
    public private(set) var examplesInFiles = 0
    /// The shape of one example (inputs.shape without the batch dimension).
    public var exampleShape: [Int] { Array(inputs.shape.dropFirst()) }

    /// Checks and converts the two arrays; the names say where they came from in messages.
    public init(inputs x: NumPyArray, labels y: NumPyArray, inputsName: String, labelsName: String) throws {
        try self.init(input: InputColumn(x), labels: y, inputsName: inputsName, labelsName: labelsName)
    }

    init(input x: InputColumn, labels y: NumPyArray, inputsName: String, labelsName: String) throws {
        let floats = try Self.converted(x, name: inputsName)
        holdsTokenIDs = x.dtype.isInteger
        targets = try Self.targets(y, examples: x.shape[0], labelsName: labelsName, inputsName: inputsName)
        labelsSource = labelsName
        inputs = Tensor(shape: [x.keptExamples] + x.shape.dropFirst(), data: floats)
        keep(x.firstKept..<(x.firstKept + x.keptExamples), of: x.shape[0])
    }

    /// The targets of the examples the inputs hold (`Dataset+Streaming`).
    private mutating func keep(_ kept: Range<Int>, of examples: Int) {
        examplesInFiles = examples
        if kept.count * targets.perExample < targets.count { targets = targets.examples(kept) }
    }

    /// Several named input arrays, one per graph input, packed in `DataInput.packingOrder`: each
    /// example's arrays flattened and concatenated (one array keeps its own shape).
    public init(named arrays: [String: NumPyArray], labels y: NumPyArray, source: String, labelsName: String) throws {
        try self.init(columns: arrays.mapValues(InputColumn.init), labels: y, source: source, labelsName: labelsName)
    }

    /// The columns are converted separately and then packed, so several named inputs hold their
    /// floats twice while they are packed (one input is not copied).
    init(columns arrays: [String: InputColumn], labels y: NumPyArray, source: String, labelsName: String) throws {
        let names = DataInput.packingOrder(Array(arrays.keys))
        guard let first = names.first, let firstArray = arrays[first] else {
            throw ModelError.invalidData("\(source) holds no input array besides the labels")
        }
        let examples = firstArray.shape.first ?? 0
        var columns: [[Float]] = []
        for name in names {
            let array = arrays[name]!
            let floats = try Self.converted(array, name: "\(source) array '\(name)'")
            guard array.shape[0] == examples else {
                throw ModelError.invalidData("\(source) array '\(name)' has \(array.shape[0]) examples but array '\(first)' has \(examples)")
            }
            parts.append(DataInput(name: name, exampleShape: Array(array.shape.dropFirst()), holdsIntegers: array.dtype.isInteger))
            columns.append(floats)
        }
        holdsTokenIDs = parts.allSatisfy(\.holdsIntegers)
        targets = try Self.targets(y, examples: examples, labelsName: labelsName, inputsName: "\(source) array '\(first)'")
        labelsSource = labelsName
        let kept = firstArray.keptExamples
        let window = firstArray.firstKept..<(firstArray.firstKept + kept)
        if parts.count == 1 {
            inputs = Tensor(shape: [kept] + firstArray.shape.dropFirst(), data: columns[0])
            keep(window, of: examples)
            return
        }
        let sizes = parts.map(\.exampleSize)
        var packed: [Float] = []
        packed.reserveCapacity(kept * sizes.reduce(0, +))
        for i in 0..<kept {
            for (column, size) in zip(columns, sizes) { packed.append(contentsOf: column[(i * size)..<((i + 1) * size)]) }
        }
        inputs = Tensor(shape: [kept, sizes.reduce(0, +)], data: packed)
        keep(window, of: examples)
    }

    /// An input array as floats: float32, or integers below 2^24 (token ids, masks); not empty, finite.
    private static func converted(_ x: InputColumn, name inputsName: String) throws -> [Float] {
        guard InputColumn.converts(x.dtype) else {
            throw ModelError.invalidData("\(inputsName) has dtype \(x.dtype.name); inputs must be float32, or integer token ids; convert with x.astype(numpy.float32)")
        }
        if let bad = x.firstBadToken {
            throw ModelError.invalidData("\(inputsName) has token id \(bad.id) at flat index \(bad.index); Hutch carries ids as exact float32, below 2^24")
        }
        guard x.shape.count >= 1, x.shape[0] > 0, x.count > 0 else {
            throw ModelError.invalidData("\(inputsName) is empty (shape \(x.shape)); Hutch needs at least one example")
        }
        if let bad = x.firstNonFinite {
            let perExample = max(1, x.count / x.shape[0])
            throw ModelError.invalidData("\(inputsName) has NaN or infinity at flat index \(bad) (example \(bad / perExample)); clean the data")
        }
        return x.floats
    }

    /// The labels as loss targets (Protocols/README.md, "Loss"): integers [N] (or [N, 1]) are
    /// class indices, integers [N, T] token classes (-100: the token does not count), floats
    /// [N] or [N, K] regression targets.
    private static func targets(_ y: NumPyArray, examples: Int, labelsName: String, inputsName: String) throws -> LossTargets {
        guard (1...2).contains(y.shape.count) else {
            throw ModelError.invalidData("\(labelsName) has shape \(y.shape); labels must be one class index per example, shape [\(examples)] (or [N, T] token labels, or float targets [N, K])")
        }
        guard y.shape[0] == examples else {
            throw ModelError.invalidData("\(labelsName) has \(y.shape[0]) labels but \(inputsName) has \(examples) examples")
        }
        guard let raw = y.integers() else {
            guard y.dtype == .float32 || y.dtype == .float64 else {
                throw ModelError.invalidData("\(labelsName) has dtype \(y.dtype.name); labels must be integer class indices (int64, int32 or uint8) or float regression targets")
            }
            if let bad = y.firstNonFinite() {
                throw ModelError.invalidData("\(labelsName) has NaN or infinity at flat index \(bad); clean the targets")
            }
            return .values(y.floats(), perExample: y.shape.count == 1 ? 1 : y.shape[1])
        }
        let tokens = y.shape.count == 2 && y.shape[1] > 1
        for (index, label) in raw.enumerated() where label < 0 || label > Int64(Int32.max) {
            guard tokens, label == Int64(LossTargets.ignoredToken) else {
                throw ModelError.invalidData("\(labelsName) has label \(label) at index \(index); labels must be class indices 0, 1, ...\(tokens ? " (or -100 for a token that does not count)" : "")")
            }
        }
        let labels = raw.map { Int($0) }
        return tokens ? .tokens(labels, perExample: y.shape[1]) : .classes(labels)
    }

    /// Loads an .npz with arrays `x` (inputs) and `y` (labels), a chunk at a time (`Dataset+Streaming`).
    public init(npz url: URL) throws {
        try self.init(npz: try FileByteSource.open(url.path) { _ in try ONNXLoader.readFile(url) }, source: url.path)
    }

    /// An .npz's bytes; `source` names it in messages.
    public init(npz bytes: [UInt8], source: String) throws {
        try self.init(npz: ByteArraySource(bytes), source: source)
    }

    /// Loads inputs and labels from two .npy files, a chunk at a time.
    public init(inputs: URL, labels: URL) throws {
        let x = try Self.input(npy: try FileByteSource.open(inputs.path) { _ in try ONNXLoader.readFile(inputs) }, source: inputs.path)
        let y = try Self.labels(npy: try FileByteSource.open(labels.path) { _ in try ONNXLoader.readFile(labels) }, source: labels.path)
        try self.init(input: x, labels: y, inputsName: inputs.path, labelsName: labels.path)
    }

    /// Checks the data against the model: per-example shape equals the model input's (each named
    /// array against the graph input of its name), and every label is below the number of
    /// classes (the logits' second dimension).
    public func validate(against graph: Graph, modelName: String = "the model") throws {
        if graph.dataInputs.count > 1 || !parts.isEmpty {
            try validateNamedInputs(against: graph, modelName: modelName)
        } else {
            try validateSingleInput(against: graph, modelName: modelName)
        }
        try validateTargets(against: graph, modelName: modelName)
    }

    /// The labels fit the output: class indices below C on [N, C], token labels [N, T] below V
    /// on [N, T, V], float targets [N, K] on [N, K].
    private func validateTargets(against graph: Graph, modelName: String) throws {
        let output = (graph.values[graph.output.index].shape ?? []).dropFirst().map { $0 ?? -1 }
        let shape = "[N, " + output.map(String.init).joined(separator: ", ") + "]"
        switch targets {
        case .classes(let labels):
            guard output.count == 1, let classes = output.first else {
                throw ModelError.invalidData("\(labelsSource) holds one class per example but \(modelName) output is \(shape); token logits [N, T, V] need labels [N, T]")
            }
            if let bad = labels.firstIndex(where: { $0 >= classes }) {
                throw ModelError.invalidData("label \(labels[bad]) at index \(bad) is out of range: \(modelName) has \(classes) classes (0...\(classes - 1))")
            }
        case .tokens(let labels, let tokens):
            guard output.count == 2, output[0] == tokens else {
                throw ModelError.invalidData("\(labelsSource) holds [N, \(tokens)] token labels but \(modelName) output is \(shape); token labels need logits [N, \(tokens), V]")
            }
            if let bad = labels.firstIndex(where: { $0 >= output[1] }) {
                throw ModelError.invalidData("token label \(labels[bad]) of example \(bad / tokens), token \(bad % tokens) is out of range: \(modelName) has a vocabulary of \(output[1]) (0...\(output[1] - 1), or -100)")
            }
        case .values(_, let width):
            guard output == [width] else {
                throw ModelError.invalidData("\(labelsSource) holds float targets (regression, loss mse) with \(width) per example but \(modelName) output is \(shape); class labels must be integers")
            }
        }
    }

    private func validateSingleInput(against graph: Graph, modelName: String) throws {
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
    }

    /// Named arrays against the graph inputs of the same names (the packing order is the same on both sides).
    private func validateNamedInputs(against graph: Graph, modelName: String) throws {
        let wanted = graph.dataInputs.map { "'\($0.name)'" }.joined(separator: ", ")
        guard !parts.isEmpty else {
            throw ModelError.invalidData("\(modelName) has \(graph.dataInputs.count) inputs (\(wanted)): give --data D.npz with one array per input, named as the input, and the labels as array 'y' (or 'labels')")
        }
        let given = Dictionary(parts.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for input in graph.dataInputs {
            guard let part = given[input.name] else {
                let names = parts.map { "'\($0.name)'" }.joined(separator: ", ")
                throw ModelError.invalidData("the data has no array '\(input.name)' for \(modelName) input '\(input.name)' (input arrays: \(names); the labels are array 'y', or 'labels' when there is no 'y')")
            }
            guard part.exampleShape == input.exampleShape else {
                throw ModelError.invalidData("array '\(part.name)' has per-example shape \(part.exampleShape) but \(modelName) input '\(input.name)' expects \(input.exampleShape)")
            }
            guard part.holdsIntegers == input.holdsIntegers else {
                throw ModelError.invalidData(input.holdsIntegers
                    ? "\(modelName) input '\(input.name)' takes integers but array '\(part.name)' is float32; save it as int64"
                    : "array '\(part.name)' holds integers but \(modelName) input '\(input.name)' is float32; convert it with astype(numpy.float32)")
            }
        }
        let known = Set(graph.dataInputs.map(\.name))
        if let extra = parts.first(where: { !known.contains($0.name) }) {
            throw ModelError.invalidData("array '\(extra.name)' is no input of \(modelName) (its inputs: \(wanted)); the labels are array 'y', or 'labels' when there is no 'y'")
        }
    }

    /// Whether the labels are classes (loss ce), the head exact and ggn traces are defined for.
    public var hasClassTargets: Bool {
        if case .classes = targets { return true }
        return false
    }

    /// The class labels, or a one-line refusal naming `what` needs them (accuracy, activation
    /// sensitivity, the integer check) when the labels are for another loss head.
    public func classLabels(for what: String) throws -> [Int] {
        guard case .classes(let y) = targets else {
            throw ModelError.invalidData("\(what) needs class labels [N] (loss ce); these labels are for another loss head")
        }
        return y
    }

    /// The first `n` examples (all of them when n >= count); n must be positive.
    public func prefix(_ n: Int) -> Dataset {
        let kept = Swift.max(1, Swift.min(n, count))
        var copy = self
        let perExample = inputs.count / Swift.max(1, count)
        copy.inputs = Tensor(shape: [kept] + exampleShape, data: Array(inputs.data[..<(kept * perExample)]))
        copy.targets = targets.examples(0..<kept)
        return copy
    }
}
