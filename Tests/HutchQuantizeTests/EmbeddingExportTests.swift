import Foundation
import HutchAutodiff
import HutchModel
import HutchQuantize
import HutchTensor
import XCTest

/// An embedding table in the QDQ export (tiny_embed, 4-bit weights, 8-bit activations):
/// per-row DequantizeLinear feeding the Gather, no activation pair on the token ids, a table
/// shared by a tied reader written once, and Hutch's fake-quantized forward against onnxruntime
/// running the export (Tests/Fixtures/export/tiny_embed_w4a8_ort_logits.npy, made by
/// make_embed_fixtures.sh).
final class EmbeddingExportTests: XCTestCase {
    private func quantized() throws -> (Graph, Dataset, QuantizedModel, ONNXModelProto) {
        let fixture = try W4A8Fixture("tiny_embed", layers: 3)
        return (fixture.graph, fixture.data, fixture.model, fixture.proto)
    }

    func testTheTableIsDequantizedPerRowAndTheIdsAreLeftAlone() throws {
        let (graph, _, model, proto) = try quantized()
        XCTAssertEqual(model.layers[0].weight.axis, 0)
        XCTAssertEqual(model.layers[0].weight.scales.count, 20)
        XCTAssertFalse(model.inputs.contains { $0.value == graph.input }, "token ids are not calibrated")
        XCTAssertEqual(model.inputs.count, 2, "the two Gemms' inputs")
        let nodes = try XCTUnwrap(QDQExporter.export(model, original: proto, source: "tiny_embed.onnx").graph?.nodes)
        let dequantize = try XCTUnwrap(nodes.first { $0.opType == "DequantizeLinear" && $0.outputs == ["words.weight"] })
        XCTAssertEqual(dequantize.attribute("axis")?.i, 0)
        XCTAssertEqual(nodes.first { $0.opType == "Gather" }?.inputs, ["words.weight", "input"])
        XCTAssertEqual(nodes.filter { $0.opType == "QuantizeLinear" }.count, 2)
    }

    func testFakeQuantizedLogitsMatchOnnxRuntime() throws {
        try W4A8Fixture("tiny_embed", layers: 3).assertFakeQuantizedLogitsMatchOnnxRuntime()
    }
}
