import HutchModel
import HutchTensor
import XCTest
@testable import HutchQuantize

/// The integer network of the embedded example against the QDQ model (Hutch's fake-quantized
/// forward) on all 450 images.
final class IntegerCheckTests: XCTestCase {
    private func check(weightBits: [Int], activationBits: Int = 8, scheme: QuantizationScheme = .symmetric) throws -> IntegerCheckReport {
        let graph = try ExampleModel.graph()
        let data = try ExampleModel.data()
        let widths = weightBits.map { LayerWidths(weightBits: $0, activationBits: activationBits) }
        let model = try ModelQuantizer(graph: graph, widths: widths, scheme: scheme).quantize(calibration: data.inputs)
        return try IntegerCheck.run(model: model, inputs: data.inputs, labels: data.labels)
    }

    func testExampleAgreesWithQDQAndEveryDifferenceIsARoundingBoundary() throws {
        // uniform 4 bits, the README's 6-bit average plan, and `hutch plan --avg-bits 4`'s plan
        for bits in [[4, 4, 4, 4, 4, 4, 4], [8, 8, 8, 5, 6, 5, 6], [8, 5, 6, 6, 4, 3, 6]] {
            let report = try check(weightBits: bits)
            print("integer check \(bits): agreement \(report.argmaxAgreement), max logit diff \(report.maxLogitDifferenceLsb) LSB, examples with differences \(report.examplesWithDifferences), differences \(report.differences.count), max gap \(report.maxUnroundedGapLsb), excess \(report.maxExcessOverBoundLsb), disagreements \(report.disagreements)")
            XCTAssertEqual(report.examples, 450)
            XCTAssertGreaterThanOrEqual(report.argmaxAgreement, 0.995, "\(bits)")
            XCTAssertEqual(report.unexplained, 0, "\(report.differences.filter { !$0.explained }.prefix(5))")
            XCTAssertLessThanOrEqual(report.maxExcessOverBoundLsb, IntegerCheck.allowance)
            XCTAssertGreaterThan(report.integerAccuracy, 0.95)
            XCTAssertEqual(report.points.count, 7, "6 quantized activations + the logits")
            XCTAssertLessThanOrEqual(report.maxLogitDifferenceLsb, 2)
        }
    }

    /// Asymmetric weights (zero points in every channel) and 6-bit activations (codes 0...63).
    func testAsymmetricWeightsAndNarrowActivations() throws {
        let report = try check(weightBits: Array(repeating: 5, count: 7), activationBits: 6, scheme: .asymmetric)
        print("integer check asymmetric w5a6: agreement \(report.argmaxAgreement), max logit diff \(report.maxLogitDifferenceLsb) LSB, first differences \(report.firstDifferences), max gap \(report.maxUnroundedGapLsb)")
        XCTAssertGreaterThanOrEqual(report.argmaxAgreement, 0.995)
        XCTAssertEqual(report.unexplained, 0, "\(report.differences.filter { !$0.explained }.prefix(5))")
        XCTAssertEqual(report.points.map(\.bits), Array(repeating: 6, count: 7))
    }

    /// The logits are requantized with exactly the dyadic numbers `--plan-out` writes for the last layer.
    func testLogitsUseThePlansRequantizationOfTheLastLayer() throws {
        let data = try ExampleModel.data().prefix(64)
        let model = try ModelQuantizer(graph: try ExampleModel.graph(), widths: Array(repeating: LayerWidths(weightBits: 5), count: 7))
            .quantize(calibration: data.inputs)
        let program = try IntegerProgram(model: model, exampleShape: data.exampleShape)
        let last = try XCTUnwrap(program.points.last?.requantizer)
        XCTAssertEqual(last.multipliers.map(Optional.some), try XCTUnwrap(model.requantization().last).dyadic)
    }
}

/// The check itself: it can fail, it covers the fixtures' CNNs, and it names what it cannot run.
final class IntegerCheckScopeTests: XCTestCase {
    private static let fixtures = ExampleModel.root.appendingPathComponent("Tests/Fixtures")

    private func fixture(_ name: String, weightBits: Int = 4) throws -> (QuantizedModel, Dataset) {
        let graph = try ONNXLoader.load(contentsOf: Self.fixtures.appendingPathComponent("\(name).onnx"))
        let arrays = try NumPyArchive.readNPZ(contentsOf: Self.fixtures.appendingPathComponent("\(name)_ref.npz"))
        let data = try Dataset(inputs: try XCTUnwrap(arrays["x"]), labels: try XCTUnwrap(arrays["y"]), inputsName: "x", labelsName: "y")
        let widths = Array(repeating: LayerWidths(weightBits: weightBits), count: graph.quantizableLayers.count)
        return (try ModelQuantizer(graph: graph, widths: widths).quantize(calibration: data.inputs), data)
    }

    func testFixtureCNNsWithMaxPoolAveragePoolClipAndDepthwiseConvAgree() throws {
        for name in ["resnet_small", "depthwise"] {
            let (model, data) = try fixture(name)
            let report = try IntegerCheck.run(model: model, inputs: data.inputs, labels: data.labels)
            print("integer check \(name): agreement \(report.argmaxAgreement), max logit diff \(report.maxLogitDifferenceLsb) LSB, first differences \(report.firstDifferences), max gap \(report.maxUnroundedGapLsb)")
            XCTAssertEqual(report.unexplained, 0, "\(name): \(report.differences.filter { !$0.explained }.prefix(5))")
            XCTAssertLessThanOrEqual(report.maxExcessOverBoundLsb, IntegerCheck.allowance, name)
            XCTAssertTrue(report.disagreements.allSatisfy { $0.cause != "unexplained" }, "\(report.disagreements)")
            XCTAssertGreaterThan(report.points.reduce(0) { $0 + $1.codes }, 0)
        }
    }

    /// A program that is wrong by a few accumulator steps in one bias must be caught.
    func testAWrongBiasIsReportedUnexplained() throws {
        let graph = try ExampleModel.graph()
        let data = try ExampleModel.data().prefix(64)
        let model = try ModelQuantizer(graph: graph, widths: Array(repeating: LayerWidths(weightBits: 8), count: 7)).quantize(calibration: data.inputs)
        var program = try IntegerProgram(model: model, exampleShape: data.exampleShape)
        guard let index = program.steps.firstIndex(where: { if case .layer = $0 { true } else { false } }),
              case .layer(var layer, let input, let output) = program.steps[index] else { return XCTFail("no layer step") }
        layer.bias = layer.bias.map { $0 + 40 }
        program.steps[index] = .layer(layer, input: input, output: output)
        let report = try IntegerCheck.run(program, model: model, inputs: data.inputs, labels: data.labels, batchSize: 64)
        XCTAssertGreaterThan(report.unexplained, 0)
        XCTAssertGreaterThan(report.maxExcessOverBoundLsb, IntegerCheck.allowance)
        XCTAssertFalse(report.differences.filter { !$0.explained }.isEmpty)
        let honest = try IntegerCheck.run(model: model, inputs: data.inputs, labels: data.labels)
        XCTAssertEqual(honest.unexplained, 0)
    }

    func testOpsWithoutAnIntegerRuleAreNamedWithTheirNode() throws {
        for (name, op) in [("tanh_mlp", "Tanh"), ("bn_kept", "BatchNormalization")] {
            let (model, data) = try fixture(name, weightBits: 8)
            XCTAssertThrowsError(try IntegerCheck.run(model: model, inputs: data.inputs, labels: data.labels)) { error in
                let message = "\(error)"
                XCTAssertTrue(message.contains("(\(op))") && message.contains("node '"), message)
                XCTAssertFalse(message.contains("\n"), message)
                XCTAssertEqual((error as? ExportError)?.kind, .model)
            }
        }
        let (model, data) = try fixture("resnet_small")
        let weightsOnly = QuantizedModel(graph: model.graph, layers: model.layers, inputs: [], outputs: [:])
        XCTAssertThrowsError(try IntegerCheck.run(model: weightsOnly, inputs: data.inputs, labels: data.labels)) { error in
            XCTAssertTrue("\(error)".contains("weights-only"), "\(error)")
        }
    }
}
