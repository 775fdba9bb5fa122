import Foundation
import HutchTensor

/// Reads an ONNX classifier into the `Graph` IR: decodes the protobuf, folds the constant shape
/// computations that exporters emit (Shape -> Gather -> Unsqueeze -> Concat -> Reshape), lowers the
/// supported ops with ONNX defaults applied, and infers every value's static shape with a symbolic
/// batch dimension. Anything Hutch cannot use is refused with one clear `ModelError`.
public enum ONNXLoader {
    /// Op types that become IR nodes.
    static let loweredOpTypes = Set([
        "Conv", "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Relu", "Clip", "LeakyRelu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish",
        "BatchNormalization", "MaxPool", "AveragePool", "GlobalAveragePool", "ReduceMean", "Flatten",
        "Reshape", "Squeeze", "Unsqueeze", "Concat", "Identity", "Dropout", "Einsum",
    ]).union(GraphBuilder.transformerOpTypes).union(GraphBuilder.dataIndexingOpTypes)
    /// Op types that are only evaluated at load time, on constant inputs (shape computations).
    static let foldedOpTypes = Set([
        "Constant", "Shape", "Gather", "Cast", "Slice", "ConstantOfShape", "Equal", "Where", "Transpose", "Range", "Mod", "Trilu",
        "Sqrt", "Pow", "Ceil", "Floor",
    ]).union(GraphBuilder.maskFoldingOpTypes)

    /// Every op type the loader accepts, sorted (for messages).
    public static var supportedOpTypes: [String] { loweredOpTypes.union(foldedOpTypes).sorted() }

    /// Loads the ONNX file at `url`, mapped (`map`).
    public static func load(contentsOf url: URL) throws -> Graph {
        try load(storage: try map(url.path) { try readFile(URL(fileURLWithPath: $0)) }, source: url.path)
    }

    /// The model file at `path` mapped into memory rather than read (`ByteStorage`): its tensors'
    /// float values are made straight from the mapped bytes, so the model is not held twice while
    /// it loads. A file that cannot be mapped (missing, a pipe) is read by `read`, whose errors are
    /// the caller's usual ones.
    public static func map(_ path: String, orRead read: (String) throws -> [UInt8]) throws -> ByteStorage {
        try ByteStorage.contents(of: path, orRead: read)
    }

    /// Loads an ONNX model from its bytes; `source` names it in messages and is the path that
    /// external data files are found beside.
    public static func load(bytes: [UInt8], source: String) throws -> Graph {
        try load(storage: ByteStorage(copying: bytes), source: source)
    }

    /// `load(bytes:source:)` from bytes where they are (a mapped file).
    public static func load(storage: ByteStorage, source: String) throws -> Graph {
        try load(model: try decode(storage: storage, source: source), source: source)
    }

    /// Decodes the protobuf without lowering it (for `inspect` and tests).
    public static func decode(bytes: [UInt8], source: String) throws -> ONNXModelProto {
        try decode(storage: ByteStorage(copying: bytes), source: source)
    }

    /// `decode(bytes:source:)` in place: the tensors' raw data stay slices of `storage`.
    public static func decode(storage: ByteStorage, source: String) throws -> ONNXModelProto {
        guard storage.count > 0 else {
            throw ModelError.invalidModel("\(source): the file is empty; export the model again with torch.onnx.export")
        }
        do {
            return try ONNXModelProto(decoding: storage)
        } catch let error as ProtobufError {
            throw ModelError.invalidModel("\(source): not a valid ONNX file (protobuf \(error)); the file is truncated or corrupt, export it again")
        }
    }

    /// Lowers a decoded model. Tensors stored in external files are read from beside
    /// `modelPath` (by default `source`, the model's path).
    public static func load(model: ONNXModelProto, source: String, modelPath: String? = nil) throws -> Graph {
        guard let graph = model.graph else {
            throw ModelError.invalidModel("\(source): the ONNX model has no graph; it is not a model file or is corrupt")
        }
        guard let opset = model.defaultOpset else {
            throw ModelError.invalidModel("\(source): the model imports no opset of the default ONNX domain; export it again with opset_version between 7 and 22")
        }
        try checkSupportedOps(graph, source: source)
        var builder = GraphBuilder(source: source, opset: opset, external: ExternalDataFiles(modelPath: modelPath ?? source, source: source))
        let lowered = try builder.build(graph)
        try lowered.checkSharedWeights(source: source)
        return lowered
    }

    /// One error listing every unsupported op type with all its node names.
    static func checkSupportedOps(_ graph: ONNXGraphProto, source: String) throws {
        var order: [String] = []
        var names: [String: [String]] = [:]
        for (index, node) in graph.nodes.enumerated() {
            let defaultDomain = node.domain.isEmpty || node.domain == "ai.onnx"
            guard !defaultDomain || !(loweredOpTypes.contains(node.opType) || foldedOpTypes.contains(node.opType)) else { continue }
            let type = defaultDomain ? node.opType : "\(node.domain).\(node.opType)"
            if names[type] == nil { order.append(type) }
            names[type, default: []].append(node.name.isEmpty ? "#\(index)" : node.name)
        }
        guard order.isEmpty else {
            throw ModelError.unsupportedOps(source: source, ops: order.map { .init(opType: $0, nodeNames: names[$0] ?? []) })
        }
    }

    static func readFile(_ url: URL) throws -> [UInt8] {
        do {
            return [UInt8](try Data(contentsOf: url))
        } catch {
            let reason = (error as NSError).localizedFailureReason ?? (error as NSError).localizedDescription
            throw ModelError.unreadableFile(path: url.path, reason: reason)
        }
    }
}
