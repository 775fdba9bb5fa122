import Foundation
import HutchAllocation
import HutchClusterCore
@testable import HutchJobs
import HutchModel
import XCTest

/// `hutch quantize` as a job: what it returns and writes, on the embedded example.
final class QuantizeJobTests: JobsTestCase {
    func makeJob(data: DataSource?, weightsOnly: Bool, logits: String? = nil) throws -> QuantizeJob {
        var request = AllocationRequest()
        request.bits = [4]
        _ = try PlanJob(sensitivity: repository("Tests/Fixtures/export/digits_sensitivity.json"), request: request, out: path("plan.json")).run()
        var job = QuantizeJob(model: repository("Examples/digits_resnet.onnx"), plan: path("plan.json"), out: path("q.onnx"))
        (job.data, job.weightsOnly, job.logits) = (data, weightsOnly, logits)
        return job
    }

    func testWeightsOnlyKeepsActivationsFloat() throws {
        let outcome = try makeJob(data: nil, weightsOnly: true).run()
        XCTAssertEqual(outcome.layers, 7)
        XCTAssertEqual(outcome.weightBits, Array(repeating: 4, count: 7))
        XCTAssertNil(outcome.quantizedActivations)
        XCTAssertGreaterThan(outcome.opset, 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path("q.onnx")))
    }

    func testCalibrationDataQuantizesActivationsAndGivesTheLogits() throws {
        let outcome = try makeJob(data: .npz(repository("Examples/digits.npz")), weightsOnly: false, logits: path("logits.npy")).run()
        XCTAssertEqual(outcome.quantizedActivations.map { $0 > 0 }, true)
        let logits = try NumPyArchive.readNPY(contentsOf: URL(fileURLWithPath: path("logits.npy")))
        XCTAssertEqual(logits.shape, [450, 10])
    }

    func testDataForAnotherModelIsRefusedBeforeAnythingIsWritten() throws {
        let job = try makeJob(data: .npz(repository("Tests/Fixtures/mlp_ref.npz")), weightsOnly: false)
        XCTAssertThrowsError(try job.run())
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("q.onnx")))
    }
}
