import Foundation
import HutchModel
import HutchSensitivity
import HutchTensor
import XCTest

/// `hutch trace --measured` on the example against onnxruntime's losses of the same quantized
/// weights (Tests/Fixtures/export/digits_measured.json), and the per-batch sums that make any
/// cut into tasks give the same bits.
final class MeasuredLossIncreaseTests: XCTestCase {
    static func runner(samples: Int, batchSize: Int) throws -> TaskRunner {
        let graph = try ONNXLoader.load(contentsOf: Fixtures.root.appendingPathComponent("Examples/digits_resnet.onnx"))
        let data = try Dataset(npz: Fixtures.root.appendingPathComponent("Examples/digits.npz"))
        let job = try SensitivityJob(method: .exact, samples: samples, batchSize: batchSize, layerCount: graph.quantizableLayers.count)
        return try TaskRunner(graph: graph, dataset: data, job: job)
    }

    func testIncreasesMatchOnnxruntime() throws {
        let fixture = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: Fixtures.directory.appendingPathComponent("export/digits_measured.json"))) as? [String: Any])
        let reference = try XCTUnwrap(fixture["layers"] as? [String: [String: Double]])
        // several batches, a partial last one
        let runner = try Self.runner(samples: 450, batchSize: 100)
        let (base, increases) = try MeasuredLossIncrease(runner: runner, bits: [2, 3, 4, 8]).run()
        XCTAssertEqual(base, try XCTUnwrap(fixture["base_loss"] as? Double), accuracy: 1e-6)
        for (layer, byWidth) in zip(runner.layers, increases) {
            for b in [2, 3, 4, 8] {
                let want = try XCTUnwrap(reference[layer.nodeName]?[String(b)])
                XCTAssertEqual(try XCTUnwrap(byWidth[b]), want, accuracy: 2e-5 + 1e-3 * abs(want), "\(layer.nodeName) at \(b) bits")
            }
        }
    }

    /// The result is Σ over batches, in batch order, of each batch's loss sum, divided by N:
    /// checked against that sum written out here from the batches' logits.
    func testTheMeanIsTheSumOfPerBatchSumsInBatchOrder() throws {
        let runner = try Self.runner(samples: 40, batchSize: 16)
        let (base, _) = try MeasuredLossIncrease(runner: runner, bits: [4]).run()
        var total = 0.0
        for b in 0..<runner.job.batchCount {
            let (x, targets) = runner.batch(b)
            guard case .classes(let y) = targets else { return XCTFail("class labels expected") }
            let logits = try runner.executor.logits(x)
            var sum = 0.0
            for (i, label) in y.enumerated() {
                let row = (0..<logits.shape[1]).map { Double(logits.data[i * logits.shape[1] + $0]) }
                let top = row.max()!
                sum += top + log(row.map { exp($0 - top) }.reduce(0, +)) - row[label]
            }
            total += sum
        }
        XCTAssertEqual(base.bitPattern, (total / 40).bitPattern)
    }

    /// Tasks of one batch, of two, of every batch, filled in reverse order: the same bits.
    func testAnyCutIntoTasksGivesTheSameBits() throws {
        let runner = try Self.runner(samples: 40, batchSize: 8)
        let bits = [2, 5]
        var reference: (Double, [[Int: Double]])?
        for (batchesPerTask, reversed) in [(Int.max, false), (1, true), (2, false), (3, true)] {
            var cells = MeasuredCells(layers: runner.layers.count, bits: bits, batches: runner.job.batchCount)
            let tasks = cells.tasks(batchesPerTask: batchesPerTask)
            XCTAssertEqual(tasks.count, (1 + runner.layers.count * bits.count) * ((5 + min(batchesPerTask, 5) - 1) / min(batchesPerTask, 5)))
            for task in reversed ? tasks.reversed() : tasks {
                XCTAssertFalse(cells.isComplete)
                try cells.add(task, try runner.measuredLossSums(task))
            }
            let result = try XCTUnwrap(cells.result(examples: 40))
            if let reference {
                XCTAssertEqual(result.baseLoss.bitPattern, reference.0.bitPattern, "\(batchesPerTask) batches per task")
                XCTAssertEqual(result.increases.map { $0.mapValues(\.bitPattern) }, reference.1.map { $0.mapValues(\.bitPattern) })
            } else {
                reference = result
            }
        }
        let oneProcess = try MeasuredLossIncrease(runner: runner, bits: bits).run()
        XCTAssertEqual(oneProcess.baseLoss.bitPattern, reference?.0.bitPattern)
    }

    /// Results that do not fit are refused, and a cell given twice must get the same bits.
    func testCellsRefuseResultsThatDoNotFit() throws {
        var cells = MeasuredCells(layers: 2, bits: [4, 8], batches: 3)
        let task = MeasuredTask(layer: 1, bits: 8, batches: 1..<3)
        XCTAssertThrowsError(try cells.add(task, [1]))                                    // one value per batch
        XCTAssertThrowsError(try cells.add(task, [1, .nan]))
        XCTAssertThrowsError(try cells.add(MeasuredTask(layer: 1, bits: 3, batches: 0..<1), [1]))   // not a width
        XCTAssertThrowsError(try cells.add(MeasuredTask(layer: 2, bits: 4, batches: 0..<1), [1]))   // not a layer
        XCTAssertThrowsError(try cells.add(MeasuredTask(layer: nil, bits: 0, batches: 2..<4), [1, 2]))
        try cells.add(task, [1, 2])
        try cells.add(task, [1, 2])
        XCTAssertThrowsError(try cells.add(task, [1, 2.5]))
        XCTAssertNil(cells.result(examples: 10))
    }
}
