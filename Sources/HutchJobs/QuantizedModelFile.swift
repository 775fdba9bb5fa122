import Foundation
import HutchModel

/// The files of a quantized model: the ONNX file alone, or with its large initializers in a
/// side file PATH.data when asked, or when the tensors would not fit protobuf's 2 GiB.
enum QuantizedModelFile {
    /// Room left under the limit for the graph itself (nodes, names, small tensors).
    static let graphAllowance = 64 << 20

    static func outputs(_ model: ONNXModelProto, path: String, externalData: Bool) -> [(path: String, data: Data)] {
        guard externalData || model.inlineTensorBytes > ONNXModelProto.protobufLimit - graphAllowance else {
            return [(path, Data(model.encoded()))]
        }
        let side = path + ".data"
        let (split, data) = model.externalized(location: URL(fileURLWithPath: side).lastPathComponent)
        return [(path, Data(split.encoded())), (side, Data(data))]
    }
}
