@testable import HutchJobs
import XCTest

/// The coordinator's progress line (`ClusterProgress.line`): what it says in each situation.
final class ClusterProgressTests: XCTestCase {
    func testBeforeAnyWorkerAndAnyResult() {
        let s = ClusterProgress.Snapshot(phase: "sensitivity", done: 0, leased: 0, queued: 11, workers: 0)
        XCTAssertEqual(ClusterProgress.line(s), "sensitivity: 0 of 11 tasks done, 0 on workers, 11 waiting; waiting for workers to connect")
    }

    func testNoRateBeforeTheFirstResult() {
        let s = ClusterProgress.Snapshot(phase: "sensitivity", done: 0, leased: 1, queued: 10, workers: 1)
        XCTAssertEqual(ClusterProgress.line(s), "sensitivity: 0 of 11 tasks done, 1 on workers, 10 waiting; 1 worker connected")
    }

    func testRateAndETAOnceThereAreResults() {
        let s = ClusterProgress.Snapshot(phase: "quantize", done: 3, leased: 2, queued: 2, workers: 2, rate: 4.06, etaSeconds: 61)
        XCTAssertEqual(ClusterProgress.line(s), "quantize: 3 of 7 tasks done, 2 on workers, 2 waiting; 2 workers connected; 4.1 tasks/s, ETA 1:01")
        let slow = ClusterProgress.Snapshot(phase: "quantize", done: 1, leased: 0, queued: 0, workers: 1, rate: 0.05, etaSeconds: 0)
        XCTAssertEqual(ClusterProgress.line(slow), "quantize: 1 of 1 task done, 0 on workers, 0 waiting; 1 worker connected; 0.05 tasks/s, ETA 0:00")
    }

    func testAdaptiveRoundsSayHowManyThereCanBe() {
        let s = ClusterProgress.Snapshot(phase: "sensitivity", round: 2, roundsAtMost: 10, done: 25, leased: 2, queued: 3, workers: 2, rate: 12.5, etaSeconds: 0.4)
        XCTAssertEqual(ClusterProgress.line(s), "sensitivity, round 2 of at most 10: 25 of 30 tasks done, 2 on workers, 3 waiting; 2 workers connected; 12.5 tasks/s, ETA 0:00")
    }

    func testWorkersGoneWithWorkLeft() {
        let s = ClusterProgress.Snapshot(phase: "sensitivity", done: 4, leased: 0, queued: 7, workers: 0, rate: 1.5, etaSeconds: 4.7)
        XCTAssertEqual(ClusterProgress.line(s), "sensitivity: 4 of 11 tasks done, 0 on workers, 7 waiting; no worker connected; 1.5 tasks/s, ETA 0:05")
    }
}
