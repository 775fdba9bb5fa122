import Foundation
import HutchCluster
@testable import HutchClusterCore
import HutchSensitivity
import HutchWire
import XCTest

/// A worker's `--memory` reaches its Hutchinson tasks: too small a budget for one chunk fails the
/// task as retryable (another worker may have the memory), enough computes it.
final class ComputeDispatcherMemoryTests: XCTestCase {
    func testHutchinsonTaskUnderTooSmallABudgetIsRetryable() throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")
        let job = try SensitivityJob(method: .hutchinson, mode: .joint, seed: 3, samples: 8, batchSize: 8, layerCount: 3)
        let source = ModelSource(modelPath: fixtures.appendingPathComponent("mlp.onnx").path,
                                 dataNPZ: fixtures.appendingPathComponent("mlp_ref.npz").path)
        let spec = SensitivityWorkSpec(job: job, source: source, probesPerCall: 2)
        let request = ComputeRequest(taskID: 1, leaseID: 1, work: .sensitivity(SensitivityTask(batches: 0..<1, probes: 0..<2, groups: 0..<1)),
                                     spec: spec.encoded())
        let dispatcher = ComputeDispatcher.readingFiles()
        dispatcher.memoryBytes = 1_000_000
        guard case .failure(let kind, let message) = dispatcher.compute(request) else { return XCTFail("computed under 1 MB") }
        XCTAssertEqual(kind, .retryable)
        XCTAssertTrue(message.contains("--memory 0.001 GB is too small for Hutchinson"), message)

        let roomy = ComputeDispatcher.readingFiles()
        roomy.memoryBytes = 2_000_000_000
        guard case .success(let result) = roomy.compute(request) else { return XCTFail("not computed under 2 GB") }
        XCTAssertEqual(result.values.count, 2 * 3)
    }
}
