import Foundation
import HutchAutodiff
import HutchModel
import HutchTensor
import XCTest

/// The engine against PyTorch on the committed fixture models (Tests/Fixtures/make_fixtures.py):
/// logits, mean cross-entropy loss, gradients of every conv/linear weight and bias, and two
/// Hessian-vector products (PyTorch: double backprop in float64 on the ONNX file's own weights).
final class PyTorchFixtureTests: XCTestCase {
    private static let models = ["resnet_small", "mlp", "depthwise", "tanh_mlp", "bn_kept", "se_silu", "hard_swish",
                                          "tiny_vit", "tiny_vit_dynamo", "tiny_sdpa_dynamo", "tiny_torch_vit", "tiny_torch_vit_dynamo", "tiny_swin", "tiny_bert", "tiny_bert_dynamo", "tiny_convnext", "tiny_convnext_dynamo",
                                          "tiny_bert_mask", "tiny_bert_mask_dynamo", "tiny_shuffle", "tiny_shuffle_ts",
                                          "tiny_tagger", "tiny_regressor", "tiny_gpt2", "tiny_gpt2_dynamo",
                                          "hf_bert_mask_tiny", "hf_bert_mask_tiny_dynamo", "tiny_max", "tiny_strided_pool_dynamo", "tiny_embed",
                                          "tiny_grouped", "tiny_einsum", "tiny_einsum_dynamo", "tiny_tied", "tiny_cumsum",
                                          "tiny_cumsum_dynamo", "tiny_winograd"]

    private struct Fixture {
        var graph: Graph
        var arrays: [String: NumPyArray]
        var labels: LossTargets

        /// The input: array x, or the arrays named as the graph's inputs packed by `Dataset`.
        func input<Scalar: TensorScalar>(_: Scalar.Type) throws -> Tensor<Scalar> {
            if let x = arrays["x"] { return Tensor(shape: x.shape, data: x.doubles().map { Scalar($0) }) }
            let named = arrays.filter { name, _ in graph.dataInputs.contains { $0.name == name } }
            let data = try Dataset(named: named, labels: try XCTUnwrap(arrays["y"]), source: "reference", labelsName: "y")
            try data.validate(against: graph)
            return Tensor(shape: data.inputs.shape, data: data.inputs.data.map { Scalar($0) })
        }

        /// The initializer named `name`.
        func weight(_ name: String) throws -> ValueID {
            let index = try XCTUnwrap(graph.values.firstIndex { $0.name == name }, "no value named \(name)")
            return ValueID(index)
        }

        /// Names W of the arrays "prefix:W" in the reference file.
        func names(_ prefix: String) -> [String] {
            arrays.keys.filter { $0.hasPrefix(prefix + ":") }.map { String($0.dropFirst(prefix.count + 1)) }.sorted()
        }
    }

    private func load(_ name: String) throws -> Fixture {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Tests/Fixtures")
        let graph = try ONNXLoader.load(contentsOf: root.appendingPathComponent("\(name).onnx"))
        let arrays = try NumPyArchive.readNPZ(contentsOf: root.appendingPathComponent("\(name)_ref.npz"))
        let labels = try LossTargets(labels: try XCTUnwrap(arrays["y"]), output: graph.values[graph.output.index].shape ?? [])
        return Fixture(graph: graph, arrays: arrays, labels: labels)
    }

    /// ‖a − b‖ / max(‖b‖, tiny): one number per tensor, robust to tiny individual entries.
    private func relativeError<Scalar: TensorScalar>(_ a: [Scalar], _ b: [Double]) -> Double {
        precondition(a.count == b.count)
        var difference = 0.0, norm = 0.0
        for (x, y) in zip(a, b) {
            difference += (Double(x) - y) * (Double(x) - y)
            norm += y * y
        }
        return (difference / max(norm, 1e-300)).squareRoot()
    }

    private func check<Scalar: TensorScalar>(_ model: String, in _: Scalar.Type, tolerance: Double) throws {
        let fixture = try load(model)
        let executor = try Executor<Scalar>(graph: fixture.graph)
        let input = try fixture.input(Scalar.self)
        // Gradients only of weights the engine differentiates (BatchNorm parameters are constants).
        let parameterNames = fixture.names("v0")
        let parameters = try parameterNames.map(fixture.weight)
        let directions: [[ValueID: Tensor<Scalar>]] = try ["v0", "v1"].map { probe in
            var direction: [ValueID: Tensor<Scalar>] = [:]
            for (name, id) in zip(parameterNames, parameters) {
                let v = try XCTUnwrap(fixture.arrays["\(probe):\(name)"])
                let shape = try XCTUnwrap(executor.parameters[id]).shape
                direction[id] = Tensor(shape: shape, data: v.doubles().map { Scalar($0) })
            }
            return direction
        }
        let result = try executor.hessianVectorProducts(input: input, targets: fixture.labels, wrt: parameters,
                                                         directions: directions)

        let logits = try XCTUnwrap(fixture.arrays["logits64"]).doubles()
        XCTAssertLessThan(relativeError(result.logits.data, logits), tolerance, "\(model) logits")
        let loss = try XCTUnwrap(fixture.arrays["loss"]).doubles()[0]
        XCTAssertEqual(Double(result.loss), loss, accuracy: tolerance * abs(loss), "\(model) loss")
        for (name, id) in zip(parameterNames, parameters) {
            let gradient = try XCTUnwrap(fixture.arrays["grad:\(name)"]).doubles()
            XCTAssertLessThan(relativeError(try XCTUnwrap(result.gradients[id]).data, gradient), tolerance,
                              "\(model) gradient of \(name)")
            for (probe, products) in result.products.enumerated() {
                let reference = try XCTUnwrap(fixture.arrays["hv\(probe):\(name)"]).doubles()
                XCTAssertLessThan(relativeError(try XCTUnwrap(products[id]).data, reference), tolerance,
                                  "\(model) Hv\(probe) of \(name)")
            }
        }
    }

    /// Float32, the production precision: about 1e-4 relative per tensor, as issue 2 asks.
    func testFloatAgreesWithPyTorch() throws {
        for model in Self.models { try check(model, in: Float.self, tolerance: 1e-4) }
    }

    /// Float64 shows the agreement is exact up to round-off, not merely within float32 noise.
    /// Twenty-one graphs hold float32 constants that the float64 reference holds exactly (LayerNorm's
    /// epsilon, GELU's sqrt(2) and tanh coefficients written out as Constant nodes, the reciprocal
    /// of a constant divisor as Hutch folds a Div): there the
    /// models themselves differ by a few 1e-9, so they are held to 1e-7, still 1000x below float32.
    func testDoubleAgreesWithPyTorchToRoundOff() throws {
        let roundedConstants: Set = ["tiny_vit", "tiny_vit_dynamo", "tiny_sdpa_dynamo", "tiny_torch_vit", "tiny_torch_vit_dynamo", "tiny_swin", "tiny_bert", "tiny_bert_dynamo", "tiny_bert_mask", "tiny_bert_mask_dynamo", "tiny_convnext", "tiny_tagger", "tiny_gpt2", "tiny_gpt2_dynamo",
                                      "hf_bert_mask_tiny", "hf_bert_mask_tiny_dynamo", "tiny_strided_pool_dynamo", "tiny_einsum",
                                      "tiny_einsum_dynamo", "tiny_cumsum", "tiny_cumsum_dynamo"]
        for model in Self.models { try check(model, in: Double.self, tolerance: roundedConstants.contains(model) ? 1e-7 : 1e-9) }
    }

    /// tiny_winograd's 3x3 stride-1 layers take the per-example Winograd paths where the CPU has
    /// AVX2 + FMA (so the Float check above covers them, forward and data gradient).
    func testWinogradFixtureTakesThePerExampleWinogradPaths() throws {
        let table = ConvPathTable(cpu: CPUFeatures(avx2FMA: true, avx512: false))
        let conv = { (input: [Int], weight: [Int]) in
            try ConvGeometry(input: input, weight: weight, strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1)
        }
        let (a, b) = (try conv([8, 16, 14, 15], [16, 16, 3, 3]), try conv([8, 20, 7, 8], [20, 20, 3, 3]))
        XCTAssertEqual([table.path(a, .forward, float: true), table.path(a, .backwardData, float: true)],
                       [.winograd4PerExample, .winograd4PerExample])
        XCTAssertEqual([table.path(b, .forward, float: true), table.path(b, .backwardData, float: true)], [.winograd2, .winograd2])
        let graph = try load("tiny_winograd").graph
        XCTAssertEqual(graph.quantizableLayers.map(\.weightName), ["stem.weight", "a.weight", "down.weight", "b.weight", "head.weight"])
    }

    /// The reference arrays really cover every conv/linear weight of each model.
    func testFixturesCoverEveryQuantizableWeight() throws {
        for model in Self.models {
            let fixture = try load(model)
            let names = Set(fixture.names("hv0"))
            for layer in fixture.graph.quantizableLayers {
                XCTAssertTrue(names.contains(layer.weightName), "\(model): no Hv reference for \(layer.weightName)")
            }
        }
    }
}
