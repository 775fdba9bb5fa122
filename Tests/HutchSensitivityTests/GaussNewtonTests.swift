import HutchAutodiff
import HutchModel
import HutchSensitivity
import HutchTensor
import XCTest

/// The sampled Gauss-Newton estimator (`--method ggn`) against PyTorch: the Hessian traces
/// (`trace:W`) of piecewise-linear fixtures and the Gauss-Newton traces (`gn_trace:W`,
/// torch.func.jacrev summed over every row of A_i) of the tanh and SiLU fixtures.
final class GaussNewtonTests: XCTestCase {
    func ggn(_ c: Fixtures.Case, samples: Int, batchSize: Int, seed: UInt64 = 3) throws -> SensitivityResult {
        var options = TraceOptions()
        options.method = .ggn
        options.probes = samples
        options.batchSize = batchSize
        options.seed = seed
        options.bits = []
        return try SensitivityAnalysis.run(graph: c.graph, dataset: c.dataset, options: options)
    }

    func gaussNewton(_ c: Fixtures.Case, _ weight: String) throws -> Double {
        Double(try XCTUnwrap(c.reference["gn_trace:" + weight], weight).floats()[0])
    }

    /// Within 4 standard errors of `reference`, each per-sample value >= 0, the standard error
    /// the spread of those values.
    func checkAgreement(_ name: String, samples: Int, batchSize: Int, reference: (Fixtures.Case, String) throws -> Double) throws {
        let c = try Fixtures.load(name)
        let result = try ggn(c, samples: samples, batchSize: batchSize)
        XCTAssertEqual(result.job.method, .ggn)
        XCTAssertGreaterThan(result.job.batchCount, 1, "the test should average over several batches")
        for layer in result.layers {
            let expected = try reference(c, layer.layer.weightName)
            try assertWithinStandardErrors(layer, expected, probes: samples, "\(name) \(layer.layer.nodeName)")
            // and the standard error is honest: not so large that any value would pass
            XCTAssertLessThan(try XCTUnwrap(layer.standardError), 0.2 * expected, "\(name) \(layer.layer.nodeName)")
        }
    }

    func testPiecewiseLinearNetsGiveTheHessianTrace() throws {
        for (name, batch) in [("mlp", 5), ("resnet_small", 3)] {
            try checkAgreement(name, samples: 200, batchSize: batch) { c, w in try XCTUnwrap(c.trace(w), w) }
            XCTAssertEqual(try ggn(try Fixtures.load(name), samples: 2, batchSize: batch).curvature, .hessian)
        }
    }

    /// tanh and sigmoid, SiLU and a squeeze-excite gate: the Gauss-Newton trace, which differs
    /// from the Hessian's (fc1's Hessian trace is even negative), and sensitivity.json says so.
    func testOtherNetsGiveTheGaussNewtonTraceAndSaySo() throws {
        for (name, batch) in [("tanh_mlp", 5), ("se_silu", 3)] {
            try checkAgreement(name, samples: 200, batchSize: batch, reference: gaussNewton)
            XCTAssertEqual(try ggn(try Fixtures.load(name), samples: 2, batchSize: batch).curvature, .gaussNewton)
        }
        let c = try Fixtures.load("tanh_mlp")
        XCTAssertLessThan(try XCTUnwrap(c.trace("fc1.weight")), 0)
        XCTAssertGreaterThan(try gaussNewton(c, "fc1.weight"), 0)
    }

    /// Attention, GELU and LayerNorm before it, but the logits are linear in the head's weight:
    /// there the Gauss-Newton block is the Hessian block, so ggn meets PyTorch's Hessian trace.
    func testTheHeadOfATransformerGetsItsHessianTrace() throws {
        for name in ["tiny_vit", "tiny_bert"] {
            let c = try Fixtures.load(name)
            let result = try ggn(c, samples: 200, batchSize: 4)
            XCTAssertEqual(result.curvature, .gaussNewton)
            let head = try XCTUnwrap(result.layers.last)
            try assertWithinStandardErrors(head, try XCTUnwrap(c.trace(head.layer.weightName)), probes: 200, "\(name) \(head.layer.nodeName)")
        }
    }

    /// Unit vectors for u instead of signs: sum_c ||J^T A_i^T e_c||^2 is the Gauss-Newton trace
    /// itself, no sampling noise, so the factor and the reverse pass match PyTorch to rounding.
    func testUnitVectorsSumToTorchsGaussNewtonTrace() throws {
        for name in ["tanh_mlp", "se_silu", "resnet_small"] {
            let c = try Fixtures.load(name)
            let executor = try Executor<Float>(graph: c.graph)
            let classes = try XCTUnwrap(c.graph.classCount)
            let weights = c.graph.quantizableLayers.map(\.weight)
            let norms = try executor.sampledGaussNewtonNorms(input: c.dataset.inputs, layers: weights, samples: classes) { s, _, k in
                (0..<k).map { $0 == s ? 1 : 0 }
            }
            for layer in c.graph.quantizableLayers {
                let sum = try XCTUnwrap(norms[layer.weight]).data.reduce(0.0) { $0 + Double($1) }
                assertRelative(sum / Double(c.dataset.count), try gaussNewton(c, layer.weightName), 1e-4, "\(name) \(layer.nodeName)")
            }
        }
    }

    func testWrongSignCountIsRefused() throws {
        let c = try Fixtures.load("mlp")
        let executor = try Executor<Float>(graph: c.graph)
        XCTAssertThrowsError(try executor.sampledGaussNewtonNorms(input: c.dataset.inputs, layers: [c.graph.quantizableLayers[0].weight],
                                                                  samples: 1) { _, _, k in [Float](repeating: 1, count: k + 1) })
    }

    /// Adaptive rounds stop once every layer's relative standard error is within --tol.
    func testToleranceStopsTheRounds() throws {
        let c = try Fixtures.load("mlp")
        var options = TraceOptions()
        options.method = .ggn
        options.tolerance = 0.1
        options.batchSize = 5
        options.bits = []
        let result = try SensitivityAnalysis.run(graph: c.graph, dataset: c.dataset, options: options)
        let probes = try XCTUnwrap(result.layers[0].probes)
        XCTAssertLessThan(probes, options.maxProbes)
        XCTAssertEqual(probes % options.probesPerRound, 0)
        for layer in result.layers {
            XCTAssertLessThanOrEqual(try XCTUnwrap(layer.standardError) / layer.trace, 0.1, layer.layer.nodeName)
        }
    }

    /// The same bits on 1, 2 and 3 compute threads.
    func testThreadCountDoesNotChangeBits() throws {
        let c = try Fixtures.load("resnet_small")
        let one = try Kernels.withThreads(1) { try ggn(c, samples: 5, batchSize: 3) }
        for threads in [2, 3] {
            let many = try Kernels.withThreads(threads) { try ggn(c, samples: 5, batchSize: 3) }
            XCTAssertEqual(many.layers.map(\.trace.bitPattern), one.layers.map(\.trace.bitPattern), "\(threads) threads")
            XCTAssertEqual(many.layers.map { $0.standardError!.bitPattern }, one.layers.map { $0.standardError!.bitPattern })
        }
    }

    /// A tiny --memory budget cuts the reverse passes into many small ones: ggn's bits do not
    /// change, exact's only in rounding.
    func testMemoryBudgetChangesOnlySpeed() throws {
        let c = try Fixtures.load("resnet_small")
        for method in [TraceMethod.ggn, .exact] {
            let job = try SensitivityJob(method: method, seed: 4, samples: 8, batchSize: 8, layerCount: c.graph.quantizableLayers.count)
            var runner = try TaskRunner(graph: c.graph, dataset: c.dataset, job: job, probesPerCall: 5)
            let task = SensitivityTask(batches: 0..<1, probes: method == .exact ? 0..<0 : 0..<5, groups: 0..<job.layerGroups.count)
            let roomy = try runner.run(task)
            runner.stackBudgetBytes = MemoryBudget.stackBytes(memory: 1)
            let tight = try runner.run(task)
            if method == .ggn {
                XCTAssertEqual(tight.values.map(\.bitPattern), roomy.values.map(\.bitPattern))
            } else {
                for (a, b) in zip(tight.values, roomy.values) { assertRelative(a, b, 1e-5, "exact") }
            }
        }
    }

    func testNetworksThatFoldExamplesTogetherAreRefused() throws {
        let c = try Fixtures.load("tiny_torch_vit")
        guard let obstacle = c.graph.perExampleObstacle else { return XCTFail("the batch moves in tiny_torch_vit") }
        XCTAssertThrowsError(try ggn(c, samples: 2, batchSize: 4)) { error in
            XCTAssertEqual((error as? SensitivityError)?.kind, .unsupported)
            XCTAssertTrue("\(error)".contains(obstacle.node), "\(error)")
        }
    }
}
