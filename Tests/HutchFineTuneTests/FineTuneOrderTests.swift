import HutchFineTune
import XCTest

/// HAWQ-V1's stage order: blocks ranked by their trace per parameter (or top eigenvalue), largest first.
final class FineTuneOrderTests: XCTestCase {
    func testHessianOrderRanksBlocksByTheirTracePerParameter() {
        let traces = [0.5, 3.0, 0.1, 0.2, 2.0, 0.7]
        let counts = [10, 10, 30, 10, 10, 10]
        // Block [2, 5]: (0.1·30 + 0.7·10) / 40 = 0.25, below layer 0's 0.5 and above layer 3's 0.2.
        XCTAssertEqual(FineTuneOrder.stages(.hessian, sensitivity: traces, blocks: [[0], [1], [2, 5], [3], [4]],
                                            ranking: .tracePerParameter(parameterCounts: counts)),
                       [[1], [4], [0], [2, 5], [3]])
        // By top eigenvalue a block counts its largest layer: [2, 5] has 0.7, above layer 0's 0.5.
        XCTAssertEqual(FineTuneOrder.stages(.hessian, sensitivity: traces, blocks: [[0], [1], [2, 5], [3], [4]], ranking: .topEigenvalue),
                       [[1], [4], [2, 5], [0], [3]])
    }

    func testEqualTracesKeepBlockOrderAndAllIsOneStage() {
        let ranking = FineTuneOrder.BlockRanking.tracePerParameter(parameterCounts: [1, 1, 1])
        XCTAssertEqual(FineTuneOrder.stages(.hessian, sensitivity: [1, 1, 2], blocks: [[0], [1], [2]], ranking: ranking), [[2], [0], [1]])
        XCTAssertEqual(FineTuneOrder.stages(.all, sensitivity: [1, 1, 2], blocks: [[0], [1], [2]], ranking: ranking), [[0, 1, 2]])
    }

    func testCosineScheduleFallsFromThePeakTowardsZero() {
        let schedule = CosineSchedule(peak: 0.1, steps: 4)
        XCTAssertEqual(schedule.rate(atStep: 0), 0.1, accuracy: 1e-15)
        XCTAssertEqual(schedule.rate(atStep: 2), 0.05, accuracy: 1e-15)
        XCTAssertEqual(schedule.rate(atStep: 4), 0, accuracy: 1e-15)
        XCTAssertGreaterThan(schedule.rate(atStep: 1), schedule.rate(atStep: 3))
    }
}
