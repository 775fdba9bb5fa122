/// Loading a data set from files read a chunk at a time (`ByteSource`): each .npy (alone, or an
/// .npz member, stored or deflated) goes through `NPYStreamDecoder` straight into the inputs'
/// float storage, so a load holds the floats, the labels and O(chunk) bytes, never a file whole.
/// Every check and message is the one of reading the files whole, in the same order (the archive's
/// members in central-directory order, each CRC before its contents, then the arrays' values).
/// `keepingExamples: n` gives `prefix(n)` of the data set while holding the floats of n examples
/// only, and `examples: a..<b` examples a..<b only (a group, for calibration): every element is
/// still read and checked, so the errors stay those of the whole set.
extension Dataset {
    /// Bytes read (and inflated) at a time.
    public static let loadChunkBytes = 1 << 20

    /// An .npz; `source` names it in messages. The labels are array `y`, else `labels`; the inputs
    /// are array `x` (the model's only input, whatever its name), else every other array, each
    /// matched to the graph input of its name by `validate`. Of several members with one name the
    /// last is the array, as NumPy's `load` reads it.
    public init(npz file: any ByteSource, source: String, chunkBytes: Int = loadChunkBytes, keepingExamples: Int? = nil) throws {
        try self.init(npz: file, source: source, chunkBytes: chunkBytes, examples: keepingExamples.map { 0..<$0 })
    }

    /// An .npz, holding examples `examples` only (nil: all).
    public init(npz file: any ByteSource, source: String, chunkBytes: Int = loadChunkBytes, examples keepingExamples: Range<Int>?) throws {
        let members = try ZipArchive.members(file, source: source)
        var last: [String: Int] = [:]
        for (i, member) in members.enumerated() { last[member.arrayName] = i }
        let labelsKey = last["y"] != nil ? "y" : "labels"
        var columns: [String: InputColumn] = [:]
        var labels: NumPyArray?
        for (i, member) in members.enumerated() {
            let name = member.arrayName
            let use: NPYStreamDecoder.Use = last[name] != i ? .unused
                : name == labelsKey ? .labels
                : (last["x"] == nil || name == "x") ? .input : .unused
            var decoder = NPYStreamDecoder(total: member.size, source: "\(source) array '\(name)'", use: use, keptExamples: keepingExamples)
            try ZipArchive.stream(member, in: file, source: source, chunkBytes: chunkBytes) { decoder.consume($0) }
            switch try decoder.finish() {
            case .input(let column): columns[name] = column
            case .array(let array): labels = array
            case .checked: break
            }
        }
        guard let y = labels, last.count > 1 else {
            let names = last.keys.sorted().map { "'\($0)'" }.joined(separator: ", ")
            throw ModelError.invalidData("\(source): needs the labels as array 'y' (or 'labels') and the inputs as array 'x' or one array per model input, named as the input, but holds \(names.isEmpty ? "none" : names); save with numpy.savez(path, x=inputs, y=labels)")
        }
        if let x = columns["x"] {
            try self.init(input: x, labels: y, inputsName: "\(source) array 'x'", labelsName: "\(source) array '\(labelsKey)'")
        } else {
            try self.init(columns: columns, labels: y, source: source, labelsName: "\(source) array '\(labelsKey)'")
        }
    }

    /// Inputs and labels from two .npy files (the names say which in messages).
    public init(inputs: any ByteSource, labels: any ByteSource, inputsName: String, labelsName: String,
                chunkBytes: Int = loadChunkBytes, keepingExamples: Int? = nil) throws {
        try self.init(inputs: inputs, labels: labels, inputsName: inputsName, labelsName: labelsName, chunkBytes: chunkBytes,
                      examples: keepingExamples.map { 0..<$0 })
    }

    /// Two .npy files, holding examples `examples` only (nil: all).
    public init(inputs: any ByteSource, labels: any ByteSource, inputsName: String, labelsName: String,
                chunkBytes: Int = loadChunkBytes, examples keepingExamples: Range<Int>?) throws {
        let x = try Self.input(npy: inputs, source: inputsName, chunkBytes: chunkBytes, keepingExamples: keepingExamples)
        try self.init(input: x, labels: try Self.labels(npy: labels, source: labelsName, chunkBytes: chunkBytes),
                      inputsName: inputsName, labelsName: labelsName)
    }

    /// An inputs .npy as floats.
    static func input(npy file: any ByteSource, source: String, chunkBytes: Int = loadChunkBytes, keepingExamples: Range<Int>? = nil) throws -> InputColumn {
        let decoded = try decode(npy: file, source: source, use: .input, chunkBytes: chunkBytes, keepingExamples: keepingExamples)
        guard case .input(let column) = decoded else { throw ModelError.invalidData("\(source): holds no input array") }   // never: an input decodes to a column
        return column
    }

    /// A labels .npy as its array.
    static func labels(npy file: any ByteSource, source: String, chunkBytes: Int = loadChunkBytes) throws -> NumPyArray {
        let decoded = try decode(npy: file, source: source, use: .labels, chunkBytes: chunkBytes)
        guard case .array(let array) = decoded else { throw ModelError.invalidData("\(source): holds no labels array") }   // never: labels decode to an array
        return array
    }

    private static func decode(npy file: any ByteSource, source: String, use: NPYStreamDecoder.Use, chunkBytes: Int,
                               keepingExamples: Range<Int>? = nil) throws -> NPYStreamDecoder.Decoded {
        var decoder = NPYStreamDecoder(total: file.count, source: source, use: use, keptExamples: keepingExamples)
        try file.forEachChunk(of: 0..<file.count, chunkBytes: chunkBytes) { chunk in chunk.withUnsafeBytes { decoder.consume($0) } }
        return try decoder.finish()
    }
}
