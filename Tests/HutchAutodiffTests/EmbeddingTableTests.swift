import Foundation
import HutchAutodiff
import HutchModel
import HutchTensor
import XCTest

/// The Hessian block of an embedding table alone against PyTorch: H_WW v0 (`hvl0:words.weight`,
/// double backprop checked against torch.func.hessian's block in make_fixtures.py). The table's
/// own rule is linear (a scatter-add transpose, no curvature), so the product comes from the ops
/// downstream: LayerNorm, attention, GELU, the loss.
final class EmbeddingTableTests: XCTestCase {
    private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    func testLayerHessianVectorProductsOfTheTableAgreeWithPyTorch() throws {
        for model in ["tiny_embed", "tiny_bert", "tiny_bert_dynamo", "tiny_tagger", "tiny_gpt2", "tiny_gpt2_dynamo"] {
            let graph = try ONNXLoader.load(contentsOf: root.appendingPathComponent("\(model).onnx"))
            let arrays = try NumPyArchive.readNPZ(contentsOf: root.appendingPathComponent("\(model)_ref.npz"))
            let x = try XCTUnwrap(arrays["x"])
            let targets = try LossTargets(labels: try XCTUnwrap(arrays["y"]), output: graph.values[graph.output.index].shape ?? [])
            let table = try XCTUnwrap(graph.quantizableLayers.first { !$0.readsActivation }, model)
            let probe = try XCTUnwrap(arrays["v0:\(table.weightName)"])
            let executor = try Executor<Float>(graph: graph)
            let result = try executor.hessianVectorProducts(
                input: Tensor(shape: x.shape, data: x.floats()), targets: targets, wrt: [table.weight],
                directions: [[table.weight: Tensor(shape: table.shape, data: probe.floats())]])
            let product = try XCTUnwrap(result.products[0][table.weight]).data
            let reference = try XCTUnwrap(arrays["hvl0:\(table.weightName)"]).doubles()
            var difference = 0.0, norm = 0.0
            for (a, b) in zip(product, reference) { difference += (Double(a) - b) * (Double(a) - b); norm += b * b }
            XCTAssertGreaterThan(norm, 0, model)
            XCTAssertLessThan((difference / norm).squareRoot(), 1e-4, "\(model): H_WW v of the table")
        }
    }
}
