import Foundation
import HutchModel
import HutchSensitivity
import HutchTensor
import XCTest

/// `hutch trace --measured` on the example against onnxruntime's losses of the same quantized
/// weights (Tests/Fixtures/export/digits_measured.json).
final class MeasuredLossIncreaseTests: XCTestCase {
    /// Mean cross-entropy in Double, written out here (the job passes its own metric).
    static func loss(_ logits: Tensor<Float>, _ labels: [Int]) -> Double {
        let classes = logits.shape[1]
        var total = 0.0
        for (i, label) in labels.enumerated() {
            let row = (0..<classes).map { Double(logits.data[i * classes + $0]) }
            let top = row.max()!
            total += top + log(row.map { exp($0 - top) }.reduce(0, +)) - row[label]
        }
        return total / Double(labels.count)
    }

    func testIncreasesMatchOnnxruntime() throws {
        let graph = try ONNXLoader.load(contentsOf: Fixtures.root.appendingPathComponent("Examples/digits_resnet.onnx"))
        let data = try Dataset(npz: Fixtures.root.appendingPathComponent("Examples/digits.npz"))
        let fixture = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: Fixtures.directory.appendingPathComponent("export/digits_measured.json"))) as? [String: Any])
        let reference = try XCTUnwrap(fixture["layers"] as? [String: [String: Double]])
        var measure = MeasuredLossIncrease(graph: graph, dataset: data, bits: [2, 3, 4, 8], loss: Self.loss)
        measure.batchSize = 100   // several batches, a partial last one
        let (base, increases) = try measure.run()
        XCTAssertEqual(base, try XCTUnwrap(fixture["base_loss"] as? Double), accuracy: 1e-6)
        for (layer, byWidth) in zip(graph.quantizableLayers, increases) {
            for b in [2, 3, 4, 8] {
                let want = try XCTUnwrap(reference[layer.nodeName]?[String(b)])
                XCTAssertEqual(try XCTUnwrap(byWidth[b]), want, accuracy: 2e-5 + 1e-3 * abs(want), "\(layer.nodeName) at \(b) bits")
            }
        }
    }
}
