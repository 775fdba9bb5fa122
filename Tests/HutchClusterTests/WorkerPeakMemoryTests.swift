import HutchClusterCore
import HutchWire
import XCTest

/// Workers report their peak resident memory on every RESULT (wire.md 4.6); the coordinator keeps
/// each worker process's largest for run.json and leaves it out of the result and the journal.
final class WorkerPeakMemoryTests: XCTestCase {
    func testTheCoordinatorKeepsEachWorkersPeakAndJournalsResultsWithoutIt() throws {
        let s = try SimulationFixtures.fixture("tanh_mlp", hutchinson: true)
        var sim = Simulation(inputs: s.inputs, options: s.options, workers: 3)
        for c in [20, 35, 50] as [UInt64] { sim.addWorker(computeMs: c) }
        sim.workers[0].peakResidentBytes = 100 << 20
        sim.workers[1].peakResidentBytes = 300 << 20
        // worker 2 reports nothing (an older worker build)
        sim.run()
        guard case .sensitivity(let estimates)? = sim.outcome else { return XCTFail("no result: \(String(describing: sim.outcome))") }
        XCTAssertEqual(estimates.map(\.trace.bitPattern), s.reference.layers.map(\.trace.bitPattern), "the peak changes no result")
        XCTAssertTrue(sim.workers.allSatisfy { $0.core.completed > 0 }, "every worker did a task")
        XCTAssertEqual(sim.coordinator.workerPeakResidentBytes, [1000: 100 << 20, 1001: 300 << 20], "by worker instance")
        var results = 0
        for case .result(let r) in sim.journal.map(\.record) {
            XCTAssertNil(r.peakResidentBytes, "task \(r.taskID): the journal keeps results only")
            results += 1
        }
        XCTAssertGreaterThan(results, 0)
    }
}
