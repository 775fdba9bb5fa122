import HutchClusterCore
import HutchSensitivity
import XCTest

/// The default cut of a round into tasks: from the model's cost, between 2 per worker and the
/// round's cells; `--tasks-per-worker` overrides it; the result does not depend on it.
final class TaskSizingTests: XCTestCase {
    let perTask = TaskSizing.nominalMACsPerSecond * TaskSizing.secondsPerTask / TaskSizing.hvpCostFactor

    func testOverrideIsWorkersTimesK() {
        XCTAssertEqual(TaskSizing.tasks(workers: 3, tasksPerWorker: 5, roundMACs: 1e15, cells: 10), 15)
        XCTAssertEqual(TaskSizing.tasks(workers: 0, tasksPerWorker: 0, roundMACs: nil, cells: 1), 1)
    }

    func testCostDecidesBetweenTwoPerWorkerAndTheCells() {
        // a tiny round: two tasks per worker
        XCTAssertEqual(TaskSizing.tasks(workers: 4, tasksPerWorker: nil, roundMACs: 10, cells: 1000), 8)
        // 50 tasks' worth of work: 50 tasks for 4 workers
        XCTAssertEqual(TaskSizing.tasks(workers: 4, tasksPerWorker: nil, roundMACs: 50 * perTask, cells: 1000), 50)
        XCTAssertEqual(TaskSizing.tasks(workers: 4, tasksPerWorker: nil, roundMACs: 49.5 * perTask, cells: 1000), 50)
        // never more than the cells, even for 1000 workers or a huge model
        XCTAssertEqual(TaskSizing.tasks(workers: 1000, tasksPerWorker: nil, roundMACs: 10, cells: 600), 600)
        XCTAssertEqual(TaskSizing.tasks(workers: 1000, tasksPerWorker: nil, roundMACs: 10, cells: 100_000), 2000)
        XCTAssertEqual(TaskSizing.tasks(workers: 2, tasksPerWorker: nil, roundMACs: 1e300, cells: 777), 777)
        XCTAssertEqual(TaskSizing.tasks(workers: 2, tasksPerWorker: nil, roundMACs: .infinity, cells: 777), 8)
        // unknown cost: 4 per worker, within the cells
        XCTAssertEqual(TaskSizing.tasks(workers: 3, tasksPerWorker: nil, roundMACs: nil, cells: 100), 12)
        XCTAssertEqual(TaskSizing.tasks(workers: 3, tasksPerWorker: nil, roundMACs: nil, cells: 5), 5)
    }

    func testModelMACs() {
        XCTAssertEqual(TaskSizing.macsPerExample(layers: [100, nil, 20]), 120)
        XCTAssertNil(TaskSizing.macsPerExample(layers: [nil, 0]))
        XCTAssertEqual(TaskSizing.macsPerExample(layers: [.max, 1]), .max)
        XCTAssertEqual(TaskSizing.roundMACs(exampleProbes: 30, macsPerExample: 1000), 30_000)
        XCTAssertNil(TaskSizing.roundMACs(exampleProbes: 30, macsPerExample: nil))
        XCTAssertEqual(TaskSizing.product(6, 7), 42)
        XCTAssertEqual(TaskSizing.product(.max / 2, 3), .max)
    }
}
