import Foundation
import XCTest
@testable import HutchModel

/// Loads the real PyTorch exports of Tests/Fixtures/model and checks what the loader reports
/// against expected.json, which make_models.py computed from the PyTorch modules themselves.
final class ONNXFixtureTests: XCTestCase {
    private struct Expected: Decodable {
        struct Layer: Decodable { var shape: [Int]; var macs: Int }
        var input: [Int]
        var logits: [Int]
        var layers: [Layer]
        var files: [String]
    }

    private func expectations() throws -> [String: Expected] {
        let data = try Data(contentsOf: modelFixtures.appendingPathComponent("expected.json"))
        return try JSONDecoder().decode([String: Expected].self, from: data)
    }

    func testEveryExportLoadsWithPyTorchLayerShapesAndMACs() throws {
        let all = try expectations()
        XCTAssertEqual(Set(all.keys), ["resnetish", "mlp", "depthwise"])
        var loaded = 0
        for (model, expected) in all.sorted(by: { $0.key < $1.key }) {
            XCTAssertGreaterThanOrEqual(expected.files.count, 3, model)
            for file in expected.files {
                let graph = try ONNXLoader.load(contentsOf: modelFixtures.appendingPathComponent(file))
                XCTAssertEqual(graph.values[graph.input.index].shape, [nil] + expected.input.map { $0 }, file)
                XCTAssertEqual(graph.values[graph.output.index].shape, [nil] + expected.logits.map { $0 }, file)
                let layers = graph.quantizableLayers
                XCTAssertEqual(layers.count, expected.layers.count, file)
                for (layer, reference) in zip(layers, expected.layers) {
                    // Linear weights are [out, in] in PyTorch and in Gemm with transB=1; the
                    // dynamo exporter may store them transposed for MatMul.
                    XCTAssertTrue(layer.shape == reference.shape || layer.shape == reference.shape.reversed(),
                                  "\(file) \(layer.nodeName): \(layer.shape) vs \(reference.shape)")
                    XCTAssertEqual(layer.parameterCount, reference.shape.reduce(1, *), file)
                    XCTAssertEqual(layer.macsPerExample, reference.macs, "\(file) \(layer.nodeName)")
                }
                for value in graph.values {
                    XCTAssertNotNil(value.shape, "\(file): \(value.name) has no inferred shape")
                }
                loaded += 1
            }
        }
        XCTAssertGreaterThanOrEqual(loaded, 9)
    }

    func testShapeSubgraphIsFoldedIntoReshape() throws {
        let graph = try ONNXLoader.load(contentsOf: modelFixtures.appendingPathComponent("mlp_ts_opset13.onnx"))
        let types = graph.nodes.map(\.op.onnxType)
        XCTAssertFalse(types.contains("Shape"))
        let reshapes = graph.nodes.compactMap { node -> [Int]? in
            if case .reshape(let shape) = node.op { return shape }
            return nil
        }
        // x.view(x.size(0), -1): the batch size becomes 0 (copy the input's dimension).
        XCTAssertEqual(reshapes.first, [0, -1])
        XCTAssertTrue(types.contains("Flatten"))
        XCTAssertTrue(graph.nodes.contains { $0.op == .leakyRelu(alpha: 0.1) })
    }

    func testFixedBatchExportKeepsBatchSymbolic() throws {
        let graph = try ONNXLoader.load(contentsOf: modelFixtures.appendingPathComponent("mlp_ts_fixedbatch.onnx"))
        let reshapes = graph.nodes.compactMap { node -> [Int]? in
            if case .reshape(let shape) = node.op { return shape }
            return nil
        }
        XCTAssertEqual(reshapes.first?.first, 0)
    }

    func testDepthwiseAndClipAreLoweredWithAttributes() throws {
        for file in ["depthwise_ts_opset13.onnx", "depthwise_dynamo.onnx"] {
            let graph = try ONNXLoader.load(contentsOf: modelFixtures.appendingPathComponent(file))
            let convs = graph.nodes.compactMap { node -> ConvAttributes? in
                if case .conv(let attributes) = node.op { return attributes }
                return nil
            }
            XCTAssertEqual(convs.map(\.group), [1, 8, 1], file)
            XCTAssertEqual(convs[1].strides, [2, 2], file)
            XCTAssertEqual(convs[1].pads, [1, 1, 1, 1], file)
            XCTAssertEqual(graph.nodes.filter { $0.op == .clip(min: 0, max: 6) }.count, 2, file)
            XCTAssertTrue(graph.nodes.contains { $0.op == .globalAveragePool }, file)
        }
    }

    func testResNetHasResidualAddAndMaxPool() throws {
        let graph = try ONNXLoader.load(contentsOf: modelFixtures.appendingPathComponent("resnetish_ts_opset17.onnx"))
        XCTAssertEqual(graph.nodes.filter { $0.op == .add }.count, 1)
        XCTAssertEqual(graph.nodes.filter { if case .maxPool = $0.op { return true } else { return false } }.count, 1)
        // BatchNorm was folded into the convs by the exporter: every conv has a bias.
        for node in graph.nodes { if case .conv = node.op { XCTAssertNotNil(node.inputs[2] ?? nil) } }
        for (id, tensor) in graph.initializers {
            XCTAssertEqual(graph.values[id.index].shape, tensor.shape.map { $0 })
        }
    }
}
