import Foundation
@testable import HutchJobs
import HutchSensitivity
import XCTest

/// `auto` in `hutch run` / `hutch coordinator`: decided once when the job is created, by the same
/// calibration and `MethodChoice` as `hutch trace` (injected here), kept in job.json for every resume.
final class ClusterAutoChoiceTests: JobsTestCase {
    func document() -> JobDocument {
        let job = JobDocument.Job(hutchVersion: hutchVersion, modelDigest: "sha256:" + String(repeating: "b", count: 64),
                                  dataDigests: [], trace: JobDocument.Trace(TraceOptions()), plan: [:])
        return JobDocument(job: job, inputs: [:], schedule: .init(workers: 2, tasksPerWorker: nil))
    }

    /// 1000 classes; ggn needs 0.05 / 0.05^2 = 20 samples (picked), or with a noisy ggn 400, more than --max-probes (exact picked).
    func calibration(ggnVariance: Double) -> MethodCalibration {
        MethodCalibration(examples: 128, classes: 1000, forwardSeconds: 0.04, reverseSeconds: 0.1, probeSeconds: 0.3,
                          ggnRelativeVariance: ggnVariance, hutchinsonRelativeVariance: 400)
    }

    func decide(_ calibration: MethodCalibration, classes: Int = 1000) throws -> (TraceOptions, reason: String?) {
        try SensitivityAnalysis.resolveAuto(piecewiseLinear: true, classes: classes, options: TraceOptions()) { calibration }
    }

    func testTheChoiceIsRecordedAndAResumeKeepsItWhateverCalibrationWouldSayNow() throws {
        let state = path("state")
        var firstDigest = ""
        let recorded: JobDocument.AutoChoice
        do {   // the first start (its journal lock ends with the scope)
            let first = try StateDirectory.open(state, job: document())
            firstDigest = first.document.jobDigest
            XCTAssertNil(first.document.autoChoice)
            let (options, choice) = try ClusterJob.resolveAuto(TraceOptions(), recorded: nil) { try decide(calibration(ggnVariance: 0.05)) }
            XCTAssertEqual(options.method, .ggn)
            recorded = try XCTUnwrap(choice)
            XCTAssertEqual(recorded.method, "ggn")
            XCTAssertTrue(recorded.reason.hasPrefix("method auto: ggn"), recorded.reason)
            _ = try first.recording(recorded)
        }

        // the same command again: the same job, and the recorded choice
        let again = try StateDirectory.open(state, job: document())
        XCTAssertEqual(again.document.jobDigest, firstDigest, "the choice is not part of the job's digest")
        XCTAssertEqual(again.document.autoChoice, recorded)
        let now = calibration(ggnVariance: 1)   // 400 samples: over --max-probes
        XCTAssertEqual(try decide(now).0.method, .exact, "today's calibration alone would pick exact")
        let (resumed, fresh) = try ClusterJob.resolveAuto(TraceOptions(), recorded: again.document.autoChoice) {
            XCTFail("a resume must not calibrate again")
            return try decide(now)
        }
        XCTAssertEqual(resumed.method, .ggn)
        XCTAssertNil(fresh, "nothing new to record")
    }

    /// The 10-class example: exact without calibrating, and job.json stays as before (no auto_choice).
    func testFewClassesStayExactWithoutCalibrationOrARecordedChoice() throws {
        let (options, choice) = try ClusterJob.resolveAuto(TraceOptions(), recorded: nil) {
            try SensitivityAnalysis.resolveAuto(piecewiseLinear: true, classes: 10, options: TraceOptions()) {
                XCTFail("10 classes need no calibration")
                return calibration(ggnVariance: 0.05)
            }
        }
        XCTAssertEqual(options.method, .auto, "left to the structural rule: exact on a piecewise-linear net")
        XCTAssertNil(choice)
        let json = String(decoding: try document().encoded(), as: UTF8.self)
        XCTAssertFalse(json.contains("auto_choice"), json)
    }

    /// An explicit method is never re-decided, and a damaged recorded choice is refused.
    func testExplicitMethodsAndDamagedChoices() throws {
        var exact = TraceOptions()
        exact.method = .hutchinson
        let (options, choice) = try ClusterJob.resolveAuto(exact, recorded: nil) {
            XCTFail("an explicit method needs no decision")
            return (exact, nil)
        }
        XCTAssertEqual(options.method, .hutchinson)
        XCTAssertNil(choice)
        assertFails(.state, "auto_choice.method 'fastest'") {
            try ClusterJob.resolveAuto(TraceOptions(), recorded: .init(method: "fastest", reason: "?")) { (TraceOptions(), nil) }
        }
    }
}
