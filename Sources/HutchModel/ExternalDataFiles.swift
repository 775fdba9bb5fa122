import Foundation

/// The files that hold tensors outside the model (onnx.proto's `data_location: EXTERNAL`, as
/// PyTorch's default exporter writes `model.onnx.data`): `location` relative to the model's
/// folder, `offset` and `length` in bytes. Each file is memory-mapped once and never copied
/// whole, so a 350 MB model does not double in memory. A location that leaves the model's
/// folder, a range past the end of its file, or one that overlaps another tensor's, is refused
/// with one line naming the tensor.
public final class ExternalDataFiles {
    /// The model's folder (symbolic links resolved); locations are relative to it.
    public let directory: URL
    let source: String
    private var mapped: [String: ByteStorage] = [:]
    /// Byte ranges handed out so far, per file, with the tensor that owns each.
    private var claimed: [String: [(range: Range<Int>, tensor: String)]] = [:]

    /// For the model file at `modelPath` (`source` names it in messages).
    public init(modelPath: String, source: String? = nil) {
        directory = URL(fileURLWithPath: modelPath).deletingLastPathComponent().resolvingSymlinksInPath()
        self.source = source ?? modelPath
    }

    /// The files a model's tensors refer to, relative to its folder, in first-use order.
    public static func locations(of model: ONNXModelProto) -> [String] {
        var seen: Set<String> = [], order: [String] = []
        for tensor in model.graph?.allTensors ?? [] where tensor.usesExternalData {
            if let location = tensor.externalData.first(where: { $0.key == "location" })?.value, seen.insert(location).inserted {
                order.append(location)
            }
        }
        return order
    }

    /// `model` with every external tensor's bytes moved into its raw_data (an exported model is
    /// one self-contained file; Hutch writes files under protobuf's 2 GB limit only). The raw
    /// data are slices of the mapped files, not copies: `stream` writes them out a chunk at a time.
    public func inlined(_ model: ONNXModelProto) throws -> ONNXModelProto {
        var model = model
        guard var graph = model.graph else { return model }
        func inline(_ tensor: inout ONNXTensorProto) throws {
            guard tensor.usesExternalData else { return }
            tensor.rawSlice = try bytes(of: tensor)
            tensor.externalData = []
            tensor.dataLocation = 0
        }
        for i in graph.initializers.indices { try inline(&graph.initializers[i]) }
        for n in graph.nodes.indices {
            for a in graph.nodes[n].attributes.indices {
                guard var tensor = graph.nodes[n].attributes[a].t else { continue }
                try inline(&tensor)
                graph.nodes[n].attributes[a].t = tensor
            }
        }
        model.graph = graph
        return model
    }

    /// The bytes of `tensor`, a slice of its mapped file.
    func bytes(of tensor: ONNXTensorProto) throws -> ByteSlice {
        let what = "\(source): tensor '\(tensor.name)'"
        var entries: [String: String] = [:]
        for (key, value) in tensor.externalData { entries[key] = value }
        guard let location = entries["location"], !location.isEmpty else {
            throw ModelError.invalidModel("\(what) is stored externally but names no location; export the model again")
        }
        let url = try resolve(location, what: what)
        let file = try map(location, url, what: what)
        func number(_ key: String) throws -> Int? {
            guard let text = entries[key] else { return nil }
            guard let value = Int(text), value >= 0 else {
                throw ModelError.invalidModel("\(what): external data \(key) '\(text.prefix(40))' is not a byte count")
            }
            return value
        }
        let offset = try number("offset") ?? 0
        let length = try number("length") ?? max(0, file.count - offset)
        let (end, overflow) = offset.addingReportingOverflow(length)
        guard !overflow, end <= file.count else {
            throw ModelError.invalidModel("\(what): bytes \(offset)..<\(overflow ? Int.max : end) of '\(location)' are past its end (\(file.count) bytes); the file is truncated or belongs to another export")
        }
        let range = offset..<end
        if let other = claimed[location]?.first(where: { $0.range.overlaps(range) && $0.tensor != tensor.name }) {
            throw ModelError.invalidModel("\(what): bytes \(offset)..<\(end) of '\(location)' overlap tensor '\(other.tensor)' (\(other.range.lowerBound)..<\(other.range.upperBound)); the file is corrupt")
        }
        claimed[location, default: []].append((range, tensor.name))
        return ByteSlice(file, range)
    }

    /// `location` inside the model's folder, or an error: absolute paths, `..` and symbolic links
    /// that lead outside it are refused (a model file must not make Hutch read other files).
    func resolve(_ location: String, what: String) throws -> URL {
        let parts = location.split(separator: "/", omittingEmptySubsequences: false)
        guard !location.hasPrefix("/"), !location.contains("\\"), !parts.contains("..") else {
            throw ModelError.invalidModel("\(what): external data location '\(location.prefix(200))' leaves the model's folder; it must be a file beside the model")
        }
        let url = directory.appendingPathComponent(location).resolvingSymlinksInPath()
        guard url.path.hasPrefix(directory.path.hasSuffix("/") ? directory.path : directory.path + "/") else {
            throw ModelError.invalidModel("\(what): external data location '\(location.prefix(200))' leads outside the model's folder (through a symbolic link)")
        }
        return url
    }

    private func map(_ location: String, _ url: URL, what: String) throws -> ByteStorage {
        if let file = mapped[location] { return file }
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ModelError.invalidModel("\(what) is stored in '\(location)', which is not in \(directory.path); copy it beside the model (PyTorch writes it next to the .onnx file)")
        }
        let file = try ByteStorage.contents(of: url.path) { try ONNXLoader.readFile(URL(fileURLWithPath: $0)) }
        mapped[location] = file
        return file
    }
}
