import Foundation
@testable import HutchJobs
import XCTest

/// `hutch report DIR` as a job: what it needs in DIR and where it writes.
final class ReportJobTests: JobsTestCase {
    func testTheReportIsBuiltFromTheSensitivityFileAlone() throws {
        try FileManager.default.copyItem(atPath: repository("Tests/Fixtures/allocation/sample_sensitivity.json"), toPath: path("sensitivity.json"))
        let written = try ReportJob.write(directory: directory.path, evaluate: nil, out: nil)
        XCTAssertEqual(written, path("report.html"))
        XCTAssertTrue(String(decoding: try bytes(written), as: UTF8.self).contains("id=\"sensitivity-chart\""))
    }

    func testADirectoryWithoutSensitivityIsAnIOError() {
        assertFails(.io, "sensitivity.json") { try ReportJob.write(directory: directory.path, evaluate: nil, out: nil) }
        assertFails(.io, "is not a directory") { try ReportJob.write(directory: path("nowhere"), evaluate: nil, out: nil) }
    }

    func testEvaluationDataNeedsTheModelOfTheSensitivityFile() throws {
        try FileManager.default.copyItem(atPath: repository("Tests/Fixtures/allocation/sample_sensitivity.json"), toPath: path("sensitivity.json"))
        let request = ReportJob.EvaluationRequest(data: .npz(repository("Examples/digits.npz")), model: nil)
        assertFails(.usage, "--data needs the float model") { try ReportJob.write(directory: directory.path, evaluate: request, out: nil) }
    }
}
