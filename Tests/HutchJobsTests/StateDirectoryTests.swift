import Foundation
import HutchClusterCore
@testable import HutchJobs
import HutchSensitivity
import XCTest

/// A coordinator's state directory: a new job starts it, the same job resumes it, another is refused.
final class StateDirectoryTests: JobsTestCase {
    func document(seed: UInt64, workers: Int = 2) -> JobDocument {
        var options = TraceOptions()
        options.seed = seed
        let job = JobDocument.Job(hutchVersion: hutchVersion, modelDigest: "sha256:" + String(repeating: "a", count: 64),
                                  dataDigests: [], trace: JobDocument.Trace(options), plan: [:])
        return JobDocument(job: job, inputs: [:], schedule: .init(workers: workers, tasksPerWorker: nil))
    }

    func testANewDirectoryStartsTheJobAndTheSameJobResumesIt() throws {
        let state = path("state")
        do {
            let first = try StateDirectory.open(state, job: document(seed: 1))
            XCTAssertEqual(first.records, [])
            XCTAssertFalse(first.complete)
            try first.journal.append(.jobComplete, now: 0)
            try first.journal.sync()
        }
        let again = try StateDirectory.open(state, job: document(seed: 1, workers: 5))
        XCTAssertTrue(again.complete)
        XCTAssertEqual(again.document.schedule.workers, 2, "task ids follow the first start's sizing")
        XCTAssertTrue(FileManager.default.fileExists(atPath: again.file("job.json")))
    }

    func testAnotherJobIsRefusedWithItsFirstDifference() throws {
        let state = path("state")
        _ = try StateDirectory.open(state, job: document(seed: 1))
        assertFails(.state, "first difference: trace.seed (2 now, 1 in the state directory)") {
            try StateDirectory.open(state, job: document(seed: 2))
        }
    }
}
