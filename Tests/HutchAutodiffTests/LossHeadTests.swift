import Foundation
import HutchAutodiff
import HutchModel
import HutchTensor
import HutchTestSupport
import XCTest

/// The loss heads other than classification (token-ce on [N, T, V] with -100 ignored, mse on
/// float targets) against PyTorch: HVPs in PyTorchFixtureTests; here Hutchinson traces from
/// `hessianQuadraticForms` (the batch cut into chunks) against `torch.func.hessian` traces, and
/// the choice of head from the labels.
final class LossHeadTests: XCTestCase {
    private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    /// Joint-mode Hutchinson over every quantizable weight: each layer's mean within 4 standard
    /// errors of PyTorch's exact trace.
    func testHutchinsonTracesAgreeWithPyTorch() throws {
        for model in ["tiny_tagger", "tiny_regressor", "tiny_gpt2", "tiny_gpt2_dynamo"] {
            let graph = try ONNXLoader.load(contentsOf: root.appendingPathComponent("\(model).onnx"))
            let arrays = try NumPyArchive.readNPZ(contentsOf: root.appendingPathComponent("\(model)_ref.npz"))
            let x = try XCTUnwrap(arrays["x"])
            let input = Tensor<Float>(shape: x.shape, data: x.floats())
            let targets = try LossTargets(labels: try XCTUnwrap(arrays["y"]), output: graph.values[graph.output.index].shape ?? [])
            let executor = try Executor<Float>(graph: graph)
            let layers = graph.quantizableLayers.map(\.weight)
            var random = SplitMix64(seed: 17)
            var samples = [[Double]](repeating: [], count: layers.count)
            for _ in 0..<200 {   // 800 probes
                let directions: [[ValueID: Tensor<Float>]] = (0..<4).map { _ in
                    Dictionary(uniqueKeysWithValues: layers.map { id in
                        let shape = executor.parameters[id]!.shape
                        return (id, Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in random.next() & 1 == 0 ? Float(-1) : 1 }))
                    })
                }
                let forms = try executor.hessianQuadraticForms(input: input, targets: targets, directions: directions).forms
                if samples[0].isEmpty {   // the forms are the HVPs' inner products
                    let products = try executor.hessianVectorProducts(input: input, targets: targets, wrt: layers, directions: directions).products
                    for (j, direction) in directions.enumerated() {
                        for id in layers {
                            let dot = zip(direction[id]!.data, products[j][id]!.data).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                            XCTAssertEqual(forms[j][id]!, dot, accuracy: 1e-4 * max(1, abs(dot)), "\(model) form \(j)")
                        }
                    }
                }
                for (l, id) in layers.enumerated() { samples[l] += forms.map { $0[id]! } }
            }
            for (l, layer) in graph.quantizableLayers.enumerated() {
                let reference = try XCTUnwrap(arrays["trace:\(layer.weightName)"]).doubles()[0]
                let mean = samples[l].reduce(0, +) / Double(samples[l].count)
                let variance = samples[l].map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(samples[l].count - 1)
                let error = (variance / Double(samples[l].count)).squareRoot()
                XCTAssertLessThanOrEqual(abs(mean - reference), 4 * error + 1e-6 * abs(reference),
                                         "\(model) \(layer.weightName): \(mean) ± \(error) vs PyTorch \(reference)")
            }
        }
    }

    /// Entry points that are softmax cross-entropy's alone refuse token logits instead of
    /// reading [N, T, V] as [N, C].
    func testClassificationOnlyEntryPointsRefuseTokenLogits() throws {
        let graph = try ONNXLoader.load(contentsOf: root.appendingPathComponent("tiny_gpt2.onnx"))
        let x = try XCTUnwrap(try NumPyArchive.readNPZ(contentsOf: root.appendingPathComponent("tiny_gpt2_ref.npz"))["x"])
        let input = Tensor<Float>(shape: x.shape, data: x.floats())
        let executor = try Executor<Float>(graph: graph)
        XCTAssertThrowsError(try executor.exactHessianTraceSums(input: input, layers: [graph.quantizableLayers[0].weight])) {
            XCTAssertTrue("\($0)".contains("exact traces are for classification"), "\($0)")
        }
        XCTAssertThrowsError(try executor.activationQuadraticForms(input: input, labels: Array(repeating: 0, count: x.shape[0]),
                                                                   values: [graph.quantizableLayers[0].input], seeds: [1])) {
            XCTAssertTrue("\($0)".contains("activation sensitivity is for classification"), "\($0)")
        }
        XCTAssertThrowsError(try executor.gradient(input: input, labels: Array(repeating: 0, count: x.shape[0]), wrt: [])) {
            XCTAssertTrue("\($0)".contains("loss ce"), "\($0)")
        }
    }

    func testHeadIsChosenFromTheLabelsAndCanBeForced() throws {
        let classes = NumPyArray(shape: [2], integers: [0, 1])
        let tokens = NumPyArray(shape: [2, 3], integers: [1, 2, -100, 0, 0, 4])
        let values = NumPyArray(shape: [2, 2], float32: [0.5, 1, 2, 3])
        XCTAssertEqual(try LossTargets(labels: classes, output: [nil, 5]), .classes([0, 1]))
        XCTAssertEqual(try LossTargets(labels: tokens, output: [nil, 3, 7]), .tokens([1, 2, -100, 0, 0, 4], perExample: 3))
        XCTAssertEqual(try LossTargets(labels: values, output: [nil, 2]), .values([0.5, 1, 2, 3], perExample: 2))
        XCTAssertEqual(try LossTargets(labels: tokens, output: [nil, 3, 7]).normalizer, 5)
        XCTAssertEqual(try LossTargets(labels: tokens, output: [nil, 3, 7]).examples(1..<2), .tokens([0, 0, 4], perExample: 3))
        for (labels, output, loss, message) in [(classes, [nil, 5], "mse", "loss mse"), (tokens, [nil, 5], nil, "loss ce"),
                                                (values, [nil, 3, 2], "token-ce", "loss token-ce"), (classes, [nil, 5], "hinge", "unknown loss 'hinge'")] as [(NumPyArray, [Int?], String?, String)] {
            XCTAssertThrowsError(try LossTargets(labels: labels, output: output, loss: loss)) { error in
                XCTAssertTrue("\(error)".contains(message), "\(error)")
            }
        }
    }
}
