import Foundation
@testable import HutchJobs
import HutchSensitivity
import XCTest

/// job.json: what names a cluster job, and how a different job is told apart.
final class JobDocumentTests: XCTestCase {
    func document(seed: UInt64 = 0, plan: [String: String] = [:], workers: Int = 2) -> JobDocument {
        var options = TraceOptions()
        options.seed = seed
        let job = JobDocument.Job(hutchVersion: hutchVersion, modelDigest: "sha256:aa", dataDigests: ["sha256:bb"],
                                  trace: JobDocument.Trace(options), plan: plan)
        return JobDocument(job: job, inputs: ["model": ["/m.onnx"], "data": ["/d.npz"]],
                           schedule: .init(workers: workers, tasksPerWorker: nil))
    }

    func testTheDigestNamesWhatDeterminesTheOutputsAndNotTheTaskSizing() {
        XCTAssertEqual(document().jobDigest, document(workers: 8).jobDigest)
        XCTAssertNotEqual(document().jobDigest, document(seed: 1).jobDigest)
        XCTAssertNotEqual(document().jobDigest, document(plan: ["avg-bits": "4"]).jobDigest)
        XCTAssertTrue(document().jobDigest.hasPrefix("sha256:"))
    }

    func testTheEncodedDocumentDecodesToItself() throws {
        let original = document(plan: ["avg-bits": "4"])
        let decoded = try XCTUnwrap(JobDocument.decode(try original.encoded()))
        XCTAssertEqual(decoded.job, original.job)
        XCTAssertEqual(decoded.jobDigest, original.jobDigest)
        XCTAssertEqual(decoded.schedule, original.schedule)
        XCTAssertNil(JobDocument.decode(Data("{}".utf8)))
    }

    func testTheFirstDifferenceSaysWhichOptionDiffers() {
        let recorded = document(seed: 3)
        XCTAssertEqual(recorded.firstDifference(from: document(seed: 0).job), "trace.seed (0 now, 3 in the state directory)")
        XCTAssertEqual(recorded.firstDifference(from: document(seed: 3, plan: ["avg-bits": "4"]).job),
                       "--avg-bits (4 now, not given in the state directory)")
        XCTAssertNil(recorded.firstDifference(from: recorded.job))
    }
}
