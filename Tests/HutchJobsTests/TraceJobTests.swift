import Foundation
import HutchAllocation
import HutchCluster
@testable import HutchJobs
import HutchModel
import HutchSensitivity
import XCTest

/// `hutch trace` as a job: the file it writes records what was measured on which inputs.
final class TraceJobTests: JobsTestCase {
    func trace(_ data: DataSource, out: String) throws -> SensitivityResult {
        var options = TraceOptions()
        options.bits = [4, 8]
        let inputs = JobInputs(model: repository("Tests/Fixtures/mlp.onnx"), data: data)
        return try TraceJob(inputs: inputs, options: options, threads: 1, out: out).run()
    }

    func testSensitivityJSONRecordsTheModelAndDataDigestsAndEveryLayer() throws {
        let x = repository("Tests/Fixtures/sensitivity/mlp_x.npy"), y = repository("Tests/Fixtures/sensitivity/mlp_y.npy")
        let result = try trace(.npy(inputs: x, labels: y), out: path("s.json"))
        let report = try SensitivityReport.decode(Data(contentsOf: URL(fileURLWithPath: path("s.json"))), source: "s.json")
        XCTAssertEqual(report.layers.count, result.layers.count)
        XCTAssertEqual(report.job.modelDigest, Digest.sha256(try bytes(repository("Tests/Fixtures/mlp.onnx"))))
        XCTAssertEqual(report.job.dataDigest, Digest.sha256(try bytes(x) + bytes(y)))
        XCTAssertEqual(report.job.toolVersion, hutchVersion)
        XCTAssertEqual(report.quantization?.bits, [4, 8])
        XCTAssertTrue(report.layers.allSatisfy { $0.trace >= 0 })
        XCTAssertEqual(traceSummary(result, outPath: "s.json").split(separator: "\n").count, result.layers.count + 2, "header, a row per layer, total")
    }

    func testDataThatDoesNotFitTheModelIsRefusedAndNothingIsWritten() {
        assertFails(.invalidData, "per-example shape") { try trace(.npz(repository("Examples/digits.npz")), out: path("s.json")) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("s.json")))
    }
}
