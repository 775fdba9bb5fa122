import Foundation
import HutchModel
import HutchTensor

/// The embedded example (Examples/digits_resnet.onnx + Examples/digits.npz), loaded once.
enum ExampleModel {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let modelURL = root.appendingPathComponent("Examples/digits_resnet.onnx")
    static let exportFixtures = root.appendingPathComponent("Tests/Fixtures/export")

    static func proto() throws -> ONNXModelProto {
        try ONNXModelProto(decoding: [UInt8](try Data(contentsOf: modelURL)))
    }

    static func graph() throws -> Graph { try ONNXLoader.load(contentsOf: modelURL) }

    static func data() throws -> Dataset { try Dataset(npz: root.appendingPathComponent("Examples/digits.npz")) }
}
