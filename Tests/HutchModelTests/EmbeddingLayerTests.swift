import Foundation
import HutchModel
import XCTest

/// Embedding tables as quantizable layers (Protocols/README.md, "Quantizable layer"): a Gather of
/// a rank-2 initializer by token ids, one channel per row, no MACs.
final class EmbeddingLayerTests: XCTestCase {
    private let fixtures = modelFixtures.deletingLastPathComponent()

    func testTheTableOfAnEmbeddingClassifierIsItsFirstLayer() throws {
        let graph = try ONNXLoader.load(contentsOf: fixtures.appendingPathComponent("tiny_embed.onnx"))
        let layers = graph.quantizableLayers
        XCTAssertEqual(layers.map(\.opType), ["Gather", "Gemm", "Gemm"])
        let table = layers[0]
        XCTAssertEqual(table.weightName, "words.weight")
        XCTAssertEqual(table.shape, [20, 8])
        XCTAssertEqual(table.parameterCount, 160)
        XCTAssertEqual(table.macsPerExample, 0, "a lookup multiplies nothing")
        XCTAssertFalse(table.readsActivation, "its input is token ids")
        XCTAssertEqual(table.input, graph.input)
        XCTAssertEqual(table.outputChannelAxis(in: graph), 0, "one scale per row")
        XCTAssertTrue(layers[1].readsActivation)
    }

    /// The token table is a layer; the position table, gathered by constant positions, is not.
    func testOnlyTablesLookedUpByDataAreLayers() throws {
        for name in ["tiny_bert", "tiny_bert_dynamo", "tiny_gpt2", "tiny_gpt2_dynamo", "hf_gpt2_tiny"] {
            let graph = try ONNXLoader.load(contentsOf: fixtures.appendingPathComponent("\(name).onnx"))
            let tables = graph.quantizableLayers.filter { !$0.readsActivation }
            XCTAssertEqual(tables.count, 1, name)
            XCTAssertEqual(tables.first?.nodeIndex, graph.nodes.firstIndex { $0.op == .embedding }, name)
        }
    }

    /// One initializer read as a table (channels = rows) and by a MatMul (channels = columns):
    /// refused, since a shared weight is quantized once. A Gemm with transB reads rows: accepted.
    func testASharedTableNeedsTheSameChannels() throws {
        let table = TestTensor.floats("table", [4, 4], (0..<16).map { Float($0) / 16 })
        func model(_ reader: TestNode) -> [UInt8] {
            makeModel(nodes: [TestNode("Gather", "lookup", ["table", "x"], ["e"]), reader],
                      initializers: [table], inputShape: [nil])
        }
        let matMul = model(TestNode("MatMul", "head", ["e", "table"], ["y"]))
        XCTAssertThrowsError(try ONNXLoader.load(bytes: matMul, source: "shared.onnx")) { error in
            XCTAssertEqual("\(error)", "shared.onnx: weight 'table' is read by 'lookup' (Gather, channels on axis 0) and by 'head' (MatMul, channels on axis 1); Hutch quantizes a shared weight once per channel, so export the second reader with its own (transposed) copy")
        }
        let gemm = model(TestNode("Gemm", "head", ["e", "table"], ["y"], [.int("transB", 1)]))
        let graph = try ONNXLoader.load(bytes: gemm, source: "shared.onnx")
        XCTAssertEqual(graph.quantizableLayers.map(\.weightName), ["table", "table"])
    }
}
