/// Errors of reading models and data. Each description is one line that names the file and the
/// node, tensor or array at fault and says what to do; the CLI maps the cases to exit codes.
public enum ModelError: Error, Equatable, CustomStringConvertible {
    /// The file could not be read at all (missing, permissions, a directory).
    case unreadableFile(path: String, reason: String)
    /// An output file could not be written.
    case unwritableFile(path: String, reason: String)
    /// The ONNX file is corrupt, or valid ONNX that Hutch cannot use as a classifier.
    case invalidModel(String)
    /// ONNX ops Hutch does not implement: every op type with the names of its nodes.
    case unsupportedOps(source: String, ops: [UnsupportedOp])
    /// A .npy/.npz file is corrupt, or its arrays do not fit the model.
    case invalidData(String)

    public struct UnsupportedOp: Equatable, Sendable {
        public var opType: String
        public var nodeNames: [String]
        public init(opType: String, nodeNames: [String]) {
            self.opType = opType
            self.nodeNames = nodeNames
        }
    }

    public var description: String {
        switch self {
        case .unreadableFile(let path, let reason):
            return "\(path): cannot read the file (\(reason))"
        case .unwritableFile(let path, let reason):
            return "\(path): cannot write the file (\(reason))"
        case .invalidModel(let message), .invalidData(let message):
            return message
        case .unsupportedOps(let source, let ops):
            let list = ops.map { op in
                let shown = op.nodeNames.prefix(5).map { $0.isEmpty ? "<unnamed>" : $0 }
                let more = op.nodeNames.count > 5 ? ", ... \(op.nodeNames.count - 5) more" : ""
                return "\(op.opType) (\(shown.joined(separator: ", "))\(more))"
            }
            return "\(source): unsupported ONNX ops: \(list.joined(separator: "; ")); "
                + "Hutch supports \(ONNXLoader.supportedOpTypes.joined(separator: ", "))"
        }
    }
}
