import Foundation
import HutchFineTune
import HutchModel
import HutchQuantize
import HutchTensor
import XCTest

/// Quantization-aware fine-tuning on the embedded example (a slice of its data, to stay fast).
final class TrainerTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func trainer(bits: Int, examples: Int = 160, seed: UInt64 = 0, order: FineTuneOrder = .all, stages: [[Int]]? = nil) throws -> QuantizationAwareTrainer {
        let graph = try ONNXLoader.load(contentsOf: Self.root.appendingPathComponent("Examples/digits_resnet.onnx"))
        let data = try Dataset(npz: Self.root.appendingPathComponent("Examples/digits.npz")).prefix(examples)
        var options = FineTuneOptions()
        options.epochs = 2
        options.seed = seed
        let widths = Array(repeating: LayerWidths(weightBits: bits, activationBits: 8), count: 7)
        return QuantizationAwareTrainer(graph: graph, widths: widths, data: data, options: options, order: order,
                                        stages: stages ?? [Array(0..<7)], metrics: Self.metrics)
    }

    /// Mean cross-entropy and accuracy, written out here so the test does not use the code it checks.
    static func metrics(_ logits: Tensor<Float>, _ labels: [Int]) -> (loss: Double, accuracy: Double) {
        let classes = logits.shape[1]
        var loss = 0.0, correct = 0
        for (i, label) in labels.enumerated() {
            let row = (0..<classes).map { Double(logits.data[i * classes + $0]) }
            let top = row.max()!
            loss += top + log(row.map { exp($0 - top) }.reduce(0, +)) - row[label]
            if row.firstIndex(of: top) == label { correct += 1 }
        }
        return (loss / Double(labels.count), Double(correct) / Double(labels.count))
    }

    func testFineTuningLowersTheQuantizedLossAtTwoBits() throws {
        let (model, log) = try trainer(bits: 2).run()
        XCTAssertEqual(log.stages.count, 1)
        XCTAssertEqual(log.stages[0].evaluations.count, 2)
        XCTAssertLessThan(log.written.loss, log.before.loss * 0.8, "fine-tuning should recover a good part of the 2-bit loss")
        XCTAssertFalse(log.interrupted)
        // the model returned is the one evaluated: quantize its graph again as the export does
        let again = try ModelQuantizer(graph: model.graph, widths: Array(repeating: LayerWidths(weightBits: 2), count: 7))
            .quantize(calibration: try trainer(bits: 2).data.inputs)
        XCTAssertEqual(again.layers, model.layers)
    }

    func testSameSeedGivesTheSameWeightsAndAnotherSeedOthers() throws {
        let a = try trainer(bits: 3, examples: 64).run()
        let b = try trainer(bits: 3, examples: 64).run()
        let c = try trainer(bits: 3, examples: 64, seed: 7).run()
        XCTAssertEqual(a.model.layers, b.model.layers)
        XCTAssertEqual(a.log, b.log)
        XCTAssertNotEqual(a.model.layers, c.model.layers)
    }

    func testStagesQuantizeMoreLayersEachTime() throws {
        let (_, log) = try trainer(bits: 3, examples: 64, order: .hessian, stages: [[5], [0, 2], [1, 3, 4, 6]]).run()
        XCTAssertEqual(log.order, "hessian")
        XCTAssertEqual(log.stages.map(\.quantizedLayers.count), [1, 3, 7])
        XCTAssertEqual(log.stages[1].newLayers, ["/stem/conv/Conv", "/block1/c2/conv/Conv"])
        XCTAssertEqual(log.stages.flatMap(\.evaluations).count, 6)
    }

    func testDivergenceStopsWithTheBestModelBeforeIt() throws {
        var t = try trainer(bits: 4, examples: 64)
        t.options.learningRate = 1e30
        let (model, log) = try t.run()
        XCTAssertTrue(log.diverged)
        XCTAssertFalse(log.interrupted)
        XCTAssertTrue(model.layers.allSatisfy { $0.weight.scales.allSatisfy(\.isFinite) })
        XCTAssertLessThanOrEqual(log.written.loss, log.before.loss)
    }

    func testStoppingReturnsTheBestModelSoFar() throws {
        var t = try trainer(bits: 2, examples: 64)
        t.shouldStop = { true }
        let (model, log) = try t.run()
        XCTAssertTrue(log.interrupted)
        XCTAssertFalse(log.diverged)
        XCTAssertEqual(log.written, log.before)
        let ptq = try ModelQuantizer(graph: t.graph, widths: t.widths).quantize(calibration: t.data.inputs)
        XCTAssertEqual(model.layers, ptq.layers)
    }
}
