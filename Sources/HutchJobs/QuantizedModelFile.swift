import Foundation
import HutchModel

/// The files of a quantized model: the ONNX file alone, or with its large initializers in a
/// side file PATH.data when asked, or when the tensors would not fit protobuf's 2 GiB. Both are
/// written a tensor at a time (`ONNXModelProto.stream`): deferred tensors (quantized layers) are
/// made as their turn comes, so the bytes of the file are never held whole.
enum QuantizedModelFile {
    /// Room left under the limit for the graph itself (nodes, names, small tensors).
    static let graphAllowance = 64 << 20

    static func outputs(_ model: ONNXModelProto, deferred: [String: DeferredTensorData] = [:], path: String,
                        externalData: Bool) -> [StagedOutput] {
        guard externalData || model.inlineTensorBytes(deferred: deferred) > ONNXModelProto.protobufLimit - graphAllowance else {
            return [StagedOutput(path: path) { try model.stream(deferred: deferred, into: &$0) }]
        }
        let side = path + ".data"
        // the side file goes first: writing it lays out the model's external-data fields
        let split = SplitModel()
        return [
            StagedOutput(path: side) { sink in
                split.model = try model.externalized(location: URL(fileURLWithPath: side).lastPathComponent, deferred: deferred, into: &sink)
            },
            StagedOutput(path: path) { sink in
                guard let model = split.model else { throw CommandFailure(.internalError, "'\(path)' written before its side file") }
                try model.stream(deferred: deferred, into: &sink)
            },
        ]
    }

    private final class SplitModel { var model: ONNXModelProto? }
}
