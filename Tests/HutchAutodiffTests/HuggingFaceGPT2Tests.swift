import Foundation
import HutchAutodiff
import HutchModel
import HutchTensor
import XCTest

/// Hugging Face's own GPT2LMHeadModel (tiny config, random weights; make_fixtures.py
/// `make_hf_gpt2`): the TorchScript export's causal mask is a Trilu of constants filled with
/// -inf, the dynamo export's a Where. Hutch's logits [N, T, V] against onnxruntime's and its
/// next-token loss (token-ce, -100 on the last token) against PyTorch's.
final class HuggingFaceGPT2Tests: XCTestCase {
    func testLogitsAndLossAgreeWithOnnxRuntimeAndPyTorch() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures")
        for name in ["hf_gpt2_tiny", "hf_gpt2_tiny_dynamo"] {
            let graph = try ONNXLoader.load(contentsOf: root.appendingPathComponent("\(name).onnx"))
            let arrays = try NumPyArchive.readNPZ(contentsOf: root.appendingPathComponent("\(name)_ref.npz"))
            let x = try XCTUnwrap(arrays["x"])
            let targets = try LossTargets(labels: try XCTUnwrap(arrays["y"]), output: graph.values[graph.output.index].shape ?? [])
            XCTAssertEqual(targets.perExample, 6)
            let executor = try Executor<Float>(graph: graph)
            let result = try executor.gradient(input: Tensor(shape: x.shape, data: x.floats()), targets: targets,
                                               wrt: [try XCTUnwrap(graph.quantizableLayers.first).weight])
            let reference = try XCTUnwrap(arrays["logits"]).floats()
            XCTAssertEqual(result.logits.shape, [4, 6, 20])
            let worst = zip(result.logits.data, reference).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThan(worst, 1e-4, name)
            let loss = try XCTUnwrap(arrays["loss"]).doubles()[0]
            XCTAssertEqual(Double(result.loss), loss, accuracy: 1e-5 * loss, name)
            // in batches of 3 (4 examples: 3 + 1) the outputs keep their [N, T, V] shape
            let batched = try executor.logits(Tensor(shape: x.shape, data: x.floats()), batchSize: 3)
            XCTAssertEqual(batched.shape, [4, 6, 20], name)
            let worstBatched = zip(batched.data, reference).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThan(worstBatched, 1e-4, name)
        }
    }
}
