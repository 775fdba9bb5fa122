import Foundation
import HutchAutodiff
import HutchModel
import HutchQuantize
import HutchTensor
import XCTest

/// A fixture model (Tests/Fixtures/NAME.onnx) quantized as make_embed_fixtures.sh NAME does it:
/// 4-bit weights, 8-bit activations calibrated on its reference examples; and the check of
/// Hutch's fake-quantized logits against onnxruntime running that export (NAME_w4a8_ort_logits.npy).
struct W4A8Fixture {
    let name: String
    let graph: Graph
    let data: Dataset
    let model: QuantizedModel
    let proto: ONNXModelProto

    init(_ name: String, layers: Int) throws {
        self.name = name
        let fixtures = ExampleModel.root.appendingPathComponent("Tests/Fixtures")
        let url = fixtures.appendingPathComponent("\(name).onnx")
        graph = try ONNXLoader.load(contentsOf: url)
        data = try Dataset(npz: fixtures.appendingPathComponent("\(name)_ref.npz"))
        let widths = Array(repeating: LayerWidths(weightBits: 4, activationBits: 8), count: layers)
        model = try ModelQuantizer(graph: graph, widths: widths).quantize(calibration: data.inputs)
        proto = try ONNXModelProto(decoding: [UInt8](try Data(contentsOf: url)))
    }

    /// onnxruntime's logits of the export equal the fake-quantized forward's to float round-off,
    /// and differ from the float model's (the fixture really is quantized).
    func assertFakeQuantizedLogitsMatchOnnxRuntime(file: StaticString = #filePath, line: UInt = #line) throws {
        let logits = try Executor<Float>(graph: model.fakeQuantizedGraph()).logits(data.inputs)
        let ort = try NumPyArchive.readNPY(contentsOf: ExampleModel.exportFixtures.appendingPathComponent("\(name)_w4a8_ort_logits.npy"))
        XCTAssertEqual(ort.shape, logits.shape, file: file, line: line)
        let difference = zip(logits.data, ort.floats()).map { abs($0 - $1) }.max() ?? .infinity
        XCTAssertLessThan(difference, 1e-4, "same float ops in another order", file: file, line: line)
        let float = try Executor<Float>(graph: graph).logits(data.inputs)
        XCTAssertGreaterThan(zip(float.data, ort.floats()).map { abs($0 - $1) }.max() ?? 0, 1e-3, file: file, line: line)
    }
}
