import Foundation
import HutchAutodiff
import HutchModel
import HutchQuantize
import HutchTensor
import XCTest

/// Weights the file computes from initializers (Tests/Fixtures/transposed_weights.onnx): a Gemm
/// reading Identity(Transpose(fc1.weight)) and a head MatMul reading Transpose(embed.weight), the
/// table an embedding Gather also reads, as the dynamo exporter writes a large GPT-2. The export
/// writes them folded and quantized, cuts the float nodes that made them, keeps the table for the
/// Gather, and onnxruntime running it agrees with Hutch's fake-quantized forward
/// (transposed_weights_w4a8_ort_logits.npy, made by make_embed_fixtures.sh transposed_weights).
final class ComputedWeightExportTests: XCTestCase {
    private func quantized() throws -> (Graph, Dataset, QuantizedModel, ONNXModelProto) {
        let fixture = try W4A8Fixture("transposed_weights", layers: 4)
        return (fixture.graph, fixture.data, fixture.model, fixture.proto)
    }

    func testComputedWeightsAreWrittenFoldedAndTheirFloatNodesCut() throws {
        let (graph, _, model, proto) = try quantized()
        XCTAssertEqual(graph.quantizableLayers.map(\.weightName), ["embed.weight", "fc1.weight_kn", "fc2.weight", "head.weight"])
        let exported = try XCTUnwrap(QDQExporter.export(model, original: proto, source: "transposed_weights.onnx").graph)
        XCTAssertEqual(exported.nodes.filter { ["Transpose", "Identity"].contains($0.opType) }.count, 0, "the float chains are cut")
        let initializers = Set(exported.initializers.map(\.name))
        XCTAssertFalse(initializers.contains("fc1.weight"), "read by the cut Transpose only")
        XCTAssertFalse(initializers.contains("embed.weight"), "the table is quantized like any layer's weight")
        for (name, axis, dims) in [("embed.weight", 0, [12, 8]), ("fc1.weight_kn", 1, [8, 10]), ("head.weight", 1, [8, 12])] {
            let dequantize = try XCTUnwrap(exported.nodes.first { $0.opType == "DequantizeLinear" && $0.outputs == [name] }, name)
            XCTAssertEqual(dequantize.attribute("axis")?.i, Int64(axis), name)
            XCTAssertEqual(exported.initializers.first { $0.name == name + "_hutch_quantized" }?.dims, dims.map(Int64.init), name)
        }
        XCTAssertEqual(exported.nodes.first { $0.opType == "Gather" }?.inputs, ["embed.weight", "input"])
        XCTAssertEqual(exported.nodes.filter { $0.outputs.contains { $0.hasSuffix("_hutch_float") } }.count, 0)
        // tied by value at one width: the head's codes are the table's, transposed
        let (table, head) = (model.layers[0].weight, model.layers[3].weight)
        XCTAssertEqual(head.scales, table.scales)
        for r in 0..<12 { for c in 0..<8 { XCTAssertEqual(head.codes[c * 12 + r], table.codes[r * 8 + c]) } }
        // the cluster's streamed export names the same integer initializers
        let deferred = try QDQExporter.exportDeferred(model, original: proto, source: "transposed_weights.onnx") { model.layers[$0].weight.codes }
        XCTAssertEqual(deferred.deferred.count, 4)
    }

    func testFakeQuantizedLogitsMatchOnnxRuntime() throws {
        try W4A8Fixture("transposed_weights", layers: 4).assertFakeQuantizedLogitsMatchOnnxRuntime()
    }

    func testAWeightNoNodeOrInitializerMakesIsRefused() throws {
        let (_, _, model, original) = try quantized()
        var proto = original
        proto.graph?.nodes.removeAll { $0.outputs == ["head.weight"] }
        XCTAssertThrowsError(try QDQExporter.export(model, original: proto, source: "t.onnx")) { error in
            XCTAssertEqual((error as? ExportError)?.kind, .model)
            XCTAssertTrue("\(error)".contains("weight 'head.weight' is neither an initializer nor a node output"), "\(error)")
        }
    }
}
