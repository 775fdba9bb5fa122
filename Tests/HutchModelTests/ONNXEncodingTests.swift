import Foundation
import HutchModel
import XCTest

/// decode -> encode -> decode is the identity on every field the decoder keeps, for every
/// committed ONNX file; the comparison is a full `dump` of the decoded structs.
final class ONNXEncodingTests: XCTestCase {
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static func committedModels() throws -> [URL] {
        let roots = ["Tests/Fixtures", "Examples"].map { repositoryRoot.appendingPathComponent($0) }
        var found: [URL] = []
        for root in roots {
            guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { continue }
            for case let url as URL in walker where url.pathExtension == "onnx" { found.append(url) }
        }
        return found.sorted { $0.path < $1.path }
    }

    private func dumped(_ model: ONNXModelProto) -> String {
        var text = ""
        dump(model, to: &text, maxItems: .max)
        return text
    }

    func testRoundTripOfEveryCommittedModel() throws {
        let models = try Self.committedModels()
        XCTAssertGreaterThanOrEqual(models.count, 15)
        for url in models {
            let bytes = [UInt8](try Data(contentsOf: url))
            let decoded = try ONNXModelProto(decoding: bytes)
            let encoded = decoded.encoded()
            let again = try ONNXModelProto(decoding: encoded)
            XCTAssertEqual(dumped(decoded), dumped(again), url.lastPathComponent)
            XCTAssertEqual(again.encoded(), encoded, "encoding is deterministic: \(url.lastPathComponent)")
            // Lowering the re-encoded model gives the same graph where the original lowers.
            if let graph = try? ONNXLoader.load(bytes: bytes, source: url.path) {
                let regraph = try ONNXLoader.load(bytes: encoded, source: url.path)
                XCTAssertEqual(graph.nodes, regraph.nodes, url.lastPathComponent)
                XCTAssertEqual(graph.initializers, regraph.initializers, url.lastPathComponent)
            }
        }
    }

    func testEveryOptionalFieldSurvives() throws {
        var tensor = ONNXTensorProto()
        tensor.dims = [2]
        tensor.dataType = 7
        tensor.int64Data = [-3, 1 << 40]
        tensor.int32Data = [-7]
        tensor.doubleData = [0.25]
        tensor.floatData = [1.5]
        tensor.name = "t"
        tensor.rawData = []
        tensor.dataLocation = 1
        tensor.externalData = [(key: "location", value: "w.bin")]
        var attribute = ONNXAttributeProto()
        attribute.name = "a"
        attribute.type = 4
        attribute.f = -0.5
        attribute.i = -2
        attribute.s = [0, 255]
        attribute.t = tensor
        attribute.floats = [1, 2]
        attribute.ints = [-1, 3]
        var node = ONNXNodeProto()
        node.inputs = ["x", ""]
        node.outputs = ["y"]
        node.name = "n"
        node.opType = "Custom"
        node.domain = "com.example"
        node.attributes = [attribute]
        var info = ONNXValueInfoProto()
        info.name = "x"
        info.elemType = 1
        info.shape = [.param("N"), .value(3), .unknown]
        var noShape = ONNXValueInfoProto()
        noShape.name = "z"
        noShape.elemType = 6
        var graph = ONNXGraphProto()
        graph.name = "g"
        graph.nodes = [node]
        graph.initializers = [tensor]
        graph.inputs = [info]
        graph.outputs = [noShape]
        graph.valueInfo = [info]
        var model = ONNXModelProto()
        model.irVersion = 10
        model.producerName = "hutch"
        var defaultOpset = ONNXOperatorSetID(), custom = ONNXOperatorSetID()
        defaultOpset.version = 21
        custom.domain = "com.example"
        custom.version = 1
        model.opsetImports = [defaultOpset, custom]
        model.graph = graph
        let again = try ONNXModelProto(decoding: model.encoded())
        XCTAssertEqual(dumped(model), dumped(again))
    }
}

/// Tests/Fixtures/export/digits_resnet_reencoded.onnx is this encoder's output for the example
/// model; Tests/Fixtures/export/check_onnxruntime.py runs it in onnxruntime against the original.
/// HUTCH_WRITE_EXPORT_FIXTURES=1 rewrites it.
final class ReencodedFixtureTests: XCTestCase {
    func testCommittedReencodedExampleIsThisEncodersOutput() throws {
        let root = ONNXEncodingTests.repositoryRoot
        let original = [UInt8](try Data(contentsOf: root.appendingPathComponent("Examples/digits_resnet.onnx")))
        let encoded = try ONNXModelProto(decoding: original).encoded()
        let fixture = root.appendingPathComponent("Tests/Fixtures/export/digits_resnet_reencoded.onnx")
        if ProcessInfo.processInfo.environment["HUTCH_WRITE_EXPORT_FIXTURES"] == "1" {
            try Data(encoded).write(to: fixture)
        }
        XCTAssertEqual([UInt8](try Data(contentsOf: fixture)), encoded)
    }
}
