import HutchFineTune
import XCTest

/// HAWQ-V1's stage order: blocks (tie groups together) by trace per parameter, largest first.
final class FineTuneOrderTests: XCTestCase {
    func testHessianOrderRanksBlocksAndKeepsTieGroupsTogether() {
        let traces = [0.5, 3.0, 0.1, 0.2, 2.0, 0.7]
        let ties: [String?] = [nil, nil, "add", nil, nil, "add"]
        XCTAssertEqual(FineTuneOrder.stages(.hessian, sensitivity: traces, tieGroups: ties), [[1], [4], [2, 5], [0], [3]])
    }

    func testEqualTracesKeepCanonicalOrderAndAllIsOneStage() {
        XCTAssertEqual(FineTuneOrder.stages(.hessian, sensitivity: [1, 1, 2], tieGroups: [nil, nil, nil]), [[2], [0], [1]])
        XCTAssertEqual(FineTuneOrder.stages(.all, sensitivity: [1, 1, 2], tieGroups: [nil, nil, nil]), [[0, 1, 2]])
    }

    func testCosineScheduleFallsFromThePeakTowardsZero() {
        let schedule = CosineSchedule(peak: 0.1, steps: 4)
        XCTAssertEqual(schedule.rate(atStep: 0), 0.1, accuracy: 1e-15)
        XCTAssertEqual(schedule.rate(atStep: 2), 0.05, accuracy: 1e-15)
        XCTAssertEqual(schedule.rate(atStep: 4), 0, accuracy: 1e-15)
        XCTAssertGreaterThan(schedule.rate(atStep: 1), schedule.rate(atStep: 3))
    }
}
