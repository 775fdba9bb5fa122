import Foundation
import HutchAutodiff
import HutchModel
import HutchQuantize
import HutchTensor
import XCTest

/// Hutch's fake-quantized forward against onnxruntime running the QDQ export of the example
/// (4-bit weights, 8-bit activations calibrated min-max on Examples/digits.npz):
/// Tests/Fixtures/export/digits_w4a8_ort_logits.npy, made by make_fixtures.sh.
final class FakeQuantizedForwardTests: XCTestCase {
    func testFakeQuantizedLogitsMatchOnnxRuntime() throws {
        try assertMatchesOnnxRuntime(Array(repeating: LayerWidths(weightBits: 4, activationBits: 8), count: 7), "digits_w4a8_ort_logits.npy")
    }

    /// The joint plan of make_joint_fixtures.sh (per-layer weight and activation widths, 4-bit
    /// activations in UINT8 pairs behind a Clip) against onnxruntime running its QDQ export.
    func testJointPlanLogitsMatchOnnxRuntime() throws {
        let url = ExampleModel.exportFixtures.appendingPathComponent("digits_joint_plan.json")
        let plan = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        let widths = (plan["layers"] as! [[String: Any]]).map {
            LayerWidths(weightBits: $0["weight_bits"] as! Int, activationBits: $0["activation_bits"] as! Int)
        }
        XCTAssertTrue(widths.contains { $0.activationBits == 4 } && widths.contains { $0.activationBits == 8 }, "mixed activation widths")
        try assertMatchesOnnxRuntime(widths, "digits_joint_ort_logits.npy")
    }

    private func assertMatchesOnnxRuntime(_ widths: [LayerWidths], _ fixture: String) throws {
        let graph = try ExampleModel.graph()
        let data = try ExampleModel.data()
        let model = try ModelQuantizer(graph: graph, widths: widths).quantize(calibration: data.inputs)
        let logits = try Executor<Float>(graph: model.fakeQuantizedGraph()).logits(data.inputs)
        let expected = try NumPyArchive.readNPY(contentsOf: ExampleModel.exportFixtures.appendingPathComponent(fixture))
        XCTAssertEqual(expected.shape, logits.shape)
        let ort = expected.floats()
        let classes = logits.shape[1]
        // Both compute the same float ops in different summation orders (~1e-6 apart). Where an
        // activation sits on a rounding boundary of its quantizer, that 1e-6 can move it by one
        // step (its scale: 0.01-0.13 at 8 bits, up to 1.5 at 4 bits here) in one run and not the
        // other; the difference then reaches the logits of that one example, damped by the later
        // layers. So: nearly every example agrees to 1e-4, the few that do not stay within one
        // step of the coarsest activation quantizer (logits span about ±16), and the predicted
        // class may differ only in those few (in practice it agrees everywhere).
        let coarsestStep = (model.inputs + Array(model.outputs.values)).map(\.parameters.scale).max() ?? 0
        var examplesOff = 0
        var largest: Float = 0
        for i in 0..<logits.shape[0] {
            let diffs = (0..<classes).map { abs(logits.data[i * classes + $0] - ort[i * classes + $0]) }
            let worst = diffs.max() ?? 0
            largest = max(largest, worst)
            let a = (0..<classes).max { logits.data[i * classes + $0] < logits.data[i * classes + $1] }
            let b = (0..<classes).max { ort[i * classes + $0] < ort[i * classes + $1] }
            if worst > 1e-4 { examplesOff += 1 } else { XCTAssertEqual(a, b, "example \(i)") }
        }
        XCTAssertLessThanOrEqual(examplesOff, logits.shape[0] / 100, "examples off by more than 1e-4")
        XCTAssertLessThan(largest, coarsestStep)
        // The fixture is not a copy of the float model: quantization moved the logits.
        let float = try Executor<Float>(graph: graph).logits(data.inputs)
        XCTAssertGreaterThan(zip(float.data, ort).map { abs($0 - $1) }.max() ?? 0, 0.01)
    }

    func testFakeQuantizeNodeIsQuantizeThenDequantize() throws {
        let graph = try ExampleModel.graph()
        let data = try ExampleModel.data().prefix(32)
        let model = try ModelQuantizer(graph: graph, widths: Array(repeating: LayerWidths(weightBits: 6, activationBits: 5), count: 7))
            .quantize(calibration: data.inputs)
        let fake = model.fakeQuantizedGraph()
        XCTAssertEqual(fake.nodes.count, graph.nodes.count + model.inputs.count)
        let executor = try Executor<Float>(graph: fake)
        for activation in model.inputs {
            XCTAssertEqual(activation.bits, 5)
            guard let index = fake.nodes.firstIndex(where: { $0.inputs == [activation.value] && $0.op.onnxType == "FakeQuantize" }) else {
                return XCTFail("no fake-quantize node for \(activation.name)")
            }
            let node = fake.nodes[index]
            let values = try executor.values([activation.value, node.outputs[0]], input: data.inputs)
            let quantizer = FakeQuantizer(grid: activation.grid, parameters: activation.parameters)
            XCTAssertEqual(values[1], quantizer(values[0]), activation.name)
            XCTAssertLessThanOrEqual(Set(values[1].data).count, 32, "at most 2^5 levels")
        }
    }

    func testActivationsAfterReLUAreUnsignedAndCalibrationMethodsOrder() throws {
        let graph = try ExampleModel.graph()
        let data = try ExampleModel.data().prefix(64)
        let quantizer = try ModelQuantizer(graph: graph, widths: Array(repeating: LayerWidths(weightBits: 4), count: 7))
        let (minMax, _) = try quantizer.calibrate(data.inputs, method: .minMax)
        let (percentile, _) = try quantizer.calibrate(data.inputs, method: .percentile(99.9))
        XCTAssertEqual(minMax.map(\.name), percentile.map(\.name))
        XCTAssertEqual(minMax.first?.name, graph.values[graph.input.index].name)
        for (a, b) in zip(minMax, percentile) {
            XCTAssertGreaterThanOrEqual(b.range.min, a.range.min)
            XCTAssertLessThanOrEqual(b.range.max, a.range.max)
            let fromReLU = graph.nodes.contains { $0.outputs.contains(a.value) && $0.op == .relu }
            if fromReLU {
                XCTAssertEqual(a.range.min, 0, a.name)
                XCTAssertEqual(a.parameters.zeroPoint, 0, a.name)
            }
        }
        XCTAssertTrue(minMax.dropFirst().allSatisfy { $0.parameters.zeroPoint == 0 }, "every hidden activation follows a ReLU")
    }

    func testRequantizationScalesAreDyadicWithinTwoToTheMinus31() throws {
        let graph = try ExampleModel.graph()
        let data = try ExampleModel.data().prefix(64)
        let model = try ModelQuantizer(graph: graph, widths: Array(repeating: LayerWidths(weightBits: 4), count: 7))
            .quantize(calibration: data.inputs)
        let entries = model.requantization()
        XCTAssertEqual(entries.count, 7)
        for (entry, layer) in zip(entries, model.layers) {
            XCTAssertEqual(entry.weightScales, layer.weight.scales)
            for (c, (m, dyadic)) in zip(entry.multipliers, entry.dyadic).enumerated() {
                let expected = Double(layer.weight.scales[c]) * Double(entry.inputScale) / Double(entry.outputScale)
                XCTAssertEqual(m, expected)
                guard let dyadic else { return XCTFail("\(entry.node) channel \(c): no dyadic form for \(m)") }
                XCTAssertLessThan(abs(dyadic.value - m) / m, 0x1p-31)
            }
        }
        let weightsOnly = try ModelQuantizer(graph: graph, widths: Array(repeating: LayerWidths(weightBits: 4), count: 7)).quantize(calibration: nil)
        XCTAssertTrue(weightsOnly.requantization().isEmpty)
        XCTAssertEqual(weightsOnly.fakeQuantizedGraph().nodes, graph.nodes)
    }

    func testDerivativesThroughFakeQuantizationAreRefused() throws {
        let graph = try ExampleModel.graph()
        let data = try ExampleModel.data().prefix(8)
        let model = try ModelQuantizer(graph: graph, widths: Array(repeating: LayerWidths(weightBits: 4), count: 7))
            .quantize(calibration: data.inputs)
        let fake = model.fakeQuantizedGraph()
        let executor = try Executor<Float>(graph: fake)
        XCTAssertThrowsError(try executor.gradient(input: data.inputs, labels: data.labels, wrt: fake.quantizableLayers.map(\.weight))) { error in
            XCTAssertTrue("\(error)".contains("not differentiable"), "\(error)")
        }
    }
}
