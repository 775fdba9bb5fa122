import Foundation
@testable import HutchCluster
@testable import HutchClusterCore
import HutchModel
import HutchSensitivity
import XCTest

extension ComputeDispatcherTests {
    /// A measured-loss task gives one loss sum per batch, the sums of one process; a layer or a
    /// batch outside the job is poison.
    func testAMeasuredTaskGivesTheBatchesLossSumsAndABadOneIsPoison() throws {
        let data = URL(fileURLWithPath: mlp).deletingLastPathComponent().appendingPathComponent("mlp_ref.npz").path
        let job = try SensitivityJob(method: .exact, samples: 12, batchSize: 4, layerCount: 3)
        let spec = SensitivityWorkSpec(job: job, source: ModelSource(modelPath: mlp, dataNPZ: data), probesPerCall: 1)
        let runner = try TaskRunner(graph: try ONNXLoader.load(contentsOf: URL(fileURLWithPath: mlp)), dataset: try Dataset(npz: URL(fileURLWithPath: data)), job: job)
        let dispatcher = ComputeDispatcher.readingFiles()
        for task in [MeasuredTask(layer: nil, bits: 0, batches: 0..<3), MeasuredTask(layer: 2, bits: 3, batches: 1..<3)] {
            let outcome = dispatcher.compute(try request(.measured(task), spec: spec))
            guard case .measured(let echo, let counts, let sums) = outcome else { return XCTFail("\(outcome)") }
            XCTAssertEqual(echo, task)
            XCTAssertEqual(counts, task.batches.map { _ in 4 })
            XCTAssertEqual(sums.map(\.bitPattern), try runner.measuredLossSums(task).map(\.bitPattern))
        }
        for bad in [MeasuredTask(layer: 3, bits: 4, batches: 0..<1), MeasuredTask(layer: 0, bits: 4, batches: 2..<4)] {
            XCTAssertEqual(failure(dispatcher.compute(try request(.measured(bad), spec: spec)))?.0, .poison, "\(bad)")
        }
    }
}
