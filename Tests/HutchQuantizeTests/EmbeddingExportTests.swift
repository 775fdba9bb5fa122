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
    private let fixtures = ExampleModel.root.appendingPathComponent("Tests/Fixtures")

    private func quantized() throws -> (Graph, Dataset, QuantizedModel, ONNXModelProto) {
        let url = fixtures.appendingPathComponent("tiny_embed.onnx")
        let graph = try ONNXLoader.load(contentsOf: url)
        let data = try Dataset(npz: fixtures.appendingPathComponent("tiny_embed_ref.npz"))
        let widths = Array(repeating: LayerWidths(weightBits: 4, activationBits: 8), count: 3)
        let model = try ModelQuantizer(graph: graph, widths: widths).quantize(calibration: data.inputs)
        return (graph, data, model, try ONNXModelProto(decoding: [UInt8](try Data(contentsOf: url))))
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
        let (graph, data, model, _) = try quantized()
        let logits = try Executor<Float>(graph: model.fakeQuantizedGraph()).logits(data.inputs)
        let ort = try NumPyArchive.readNPY(contentsOf: ExampleModel.exportFixtures.appendingPathComponent("tiny_embed_w4a8_ort_logits.npy"))
        XCTAssertEqual(ort.shape, logits.shape)
        let difference = zip(logits.data, ort.floats()).map { abs($0 - $1) }.max() ?? .infinity
        XCTAssertLessThan(difference, 1e-4, "same float ops in another order")
        // the fixture is not the float model: the 4-bit table moved the logits
        let float = try Executor<Float>(graph: graph).logits(data.inputs)
        XCTAssertGreaterThan(zip(float.data, ort.floats()).map { abs($0 - $1) }.max() ?? 0, 1e-3)
    }
}
