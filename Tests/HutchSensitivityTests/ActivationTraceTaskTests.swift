import Foundation
import HutchModel
import HutchSensitivity
import XCTest

/// Activation sensitivities: exact traces on piecewise-linear networks against PyTorch's explicit
/// activation Hessians (`atrace:W` in mlp_ref.npz and resnet_small_ref.npz, make_fixtures.py),
/// and the cells of activation tasks, which give the same bits however the work is cut.
final class ActivationTraceTaskTests: XCTestCase {
    /// Batches of 5 (uneven: 12 and 8 examples), so the batch sums are weighted as the definition says.
    func testExactActivationTracesMatchPyTorchOnPiecewiseLinearNets() throws {
        for name in ["mlp", "resnet_small"] {
            let fixture = try Fixtures.load(name)
            let measured = try ActivationSensitivity.measure(graph: fixture.graph, dataset: fixture.dataset, exact: true, probes: 0, seed: 0,
                                                             batchSize: 5, bits: [4, 8])
            var compared = 0
            for layer in fixture.graph.quantizableLayers {
                let a = try XCTUnwrap(measured[layer.input], "\(name) \(layer.nodeName)")
                XCTAssertEqual(a.standardError, 0)
                XCTAssertEqual(a.probes, 0, "exact traces write probes 0")
                XCTAssertEqual(a.quantizationErrors.keys.sorted(), [4, 8])
                guard let reference = fixture.reference["atrace:\(layer.weightName)"]?.doubles().first else { continue }
                XCTAssertGreaterThan(reference, 0)
                assertRelative(a.trace, reference, 1e-4, "\(name) \(layer.nodeName)")
                compared += 1
            }
            // mlp's middle layer is a bare MatMul, which the PyTorch reference has no module hook for
            XCTAssertEqual(compared, name == "mlp" ? 2 : fixture.graph.quantizableLayers.count, name)
            // one seed per reverse pass (the smallest stack budget) instead of all: the same bits
            let cut = try ActivationSensitivity.measure(graph: fixture.graph, dataset: fixture.dataset, exact: true, probes: 0, seed: 0,
                                                        batchSize: 5, bits: [4, 8], stackBudgetBytes: 1)
            XCTAssertEqual(cut, measured, "\(name): passes cut differently")
        }
    }

    /// Hutchinson cells cut the cluster's way (one task per batch and run of probesPerCall
    /// probes, added in reverse order) equal one process's measurement bit for bit.
    func testActivationTasksInAnyCutAndOrderGiveOneProcessesBits() throws {
        for (name, exact) in [("tanh_mlp", false), ("resnet_small", true)] {
            let fixture = try Fixtures.load(name)
            let bits = [3, 8]
            let measured = try ActivationSensitivity.measure(graph: fixture.graph, dataset: fixture.dataset, exact: exact, probes: 10, seed: 7,
                                                             batchSize: 5, bits: bits, probesPerCall: 3)
            let job = try SensitivityJob(method: exact ? .exact : .hutchinson, seed: 7, samples: fixture.dataset.count, batchSize: 5,
                                         layerCount: fixture.graph.quantizableLayers.count)
            let runner = try TaskRunner(graph: fixture.graph, dataset: fixture.dataset, job: job, probesPerCall: 3)
            let values = ActivationSensitivity.values(of: fixture.graph)
            var cells = ActivationCells(batches: job.batchCount, probes: exact ? 0 : 10, values: values.count)
            let tasks = cells.tasks(probesPerTask: 3)
            XCTAssertEqual(tasks.count, job.batchCount * (exact ? 1 : 4))
            for task in tasks.reversed() {
                XCTAssertFalse(cells.isComplete)
                try cells.add(task, runner.activationValues(task))
            }
            // a repeated result with the same bits is accepted, one with other bits is not
            try cells.add(tasks[0], runner.activationValues(tasks[0]))
            var wrong = try runner.activationValues(tasks[0])
            wrong[0] += 1
            XCTAssertThrowsError(try cells.add(tasks[0], wrong))
            let errors = try ActivationQuantizationErrors.measure(runner.executor, values: values, dataset: fixture.dataset, bits: bits, batchSize: 5)
            let combined = try ActivationSensitivity.combine(graph: fixture.graph, values: values, cells: cells,
                                                             batchCounts: (0..<job.batchCount).map { job.examples(ofBatch: $0).count }, errors: errors)
            XCTAssertEqual(combined, measured, name)
            XCTAssertEqual(measured.values.first?.probes, exact ? 0 : 10)
        }
    }

    func testTasksOutsideTheMeasurementAreRefused() {
        let cells = ActivationCells(batches: 2, probes: 4, values: 3)
        for task in [SensitivityTask(batches: 2..<3, probes: 0..<4, groups: 0..<0), SensitivityTask(batches: 0..<1, probes: 0..<5, groups: 0..<0),
                     SensitivityTask(batches: 0..<1, probes: 0..<0, groups: 0..<0), SensitivityTask(batches: 0..<1, probes: 0..<4, groups: 0..<1)] {
            XCTAssertThrowsError(try cells.expectedValues(task), "\(task)")
        }
        XCTAssertEqual(try cells.expectedValues(SensitivityTask(batches: 0..<2, probes: 1..<3, groups: 0..<0)), 12)
    }
}
