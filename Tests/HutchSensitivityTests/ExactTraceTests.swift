import HutchModel
import HutchSensitivity
import XCTest

/// Exact mode against PyTorch's torch.func.hessian block traces (`trace:W` in the fixtures).
final class ExactTraceTests: XCTestCase {
    func exact(_ c: Fixtures.Case, batchSize: Int) throws -> SensitivityResult {
        var options = TraceOptions()
        options.method = .exact
        options.batchSize = batchSize
        options.bits = []
        return try SensitivityAnalysis.run(graph: c.graph, dataset: c.dataset, options: options)
    }

    func check(_ name: String, batchSize: Int) throws {
        let c = try Fixtures.load(name)
        XCTAssertNil(c.graph.exactTraceObstacle, name)
        let result = try exact(c, batchSize: batchSize)
        XCTAssertGreaterThan(result.job.batchCount, 1, "the test should average over several batches")
        for layer in result.layers {
            let reference = try XCTUnwrap(c.trace(layer.layer.weightName), "\(name) \(layer.layer.weightName)")
            assertRelative(layer.trace, reference, 1e-4, "\(name) \(layer.layer.nodeName)")
            XCTAssertTrue(layer.exact)
            XCTAssertNil(layer.standardError)
            XCTAssertNil(layer.probes)
        }
    }

    func testMLPMatchesTorchHessianTraces() throws { try check("mlp", batchSize: 5) }
    func testResNetSmallMatchesTorchHessianTraces() throws { try check("resnet_small", batchSize: 3) }
    func testDepthwiseMatchesTorchHessianTraces() throws { try check("depthwise", batchSize: 4) }

    func testEmbeddedExampleMatchesTorchOnItsThreeSmallLayers() throws {
        let c = try Fixtures.example()
        let result = try exact(c, batchSize: 16)
        var checked = 0
        for layer in result.layers {
            // trace:W for three layers, gn_trace:W (equal to 1e-9) for all seven
            let key = c.reference["trace:" + layer.layer.weightName] ?? c.reference["gn_trace:" + layer.layer.weightName]
            let reference = try XCTUnwrap(key, layer.layer.weightName)
            assertRelative(layer.trace, Double(reference.floats()[0]), 1e-4, layer.layer.nodeName)
            checked += 1
        }
        XCTAssertEqual(checked, 7)
    }

    func testBatchSizeDoesNotChangeTheTrace() throws {
        let c = try Fixtures.load("resnet_small")
        let one = try exact(c, batchSize: 8), several = try exact(c, batchSize: 3)
        for (a, b) in zip(one.layers, several.layers) { assertRelative(a.trace, b.trace, 1e-5, a.layer.nodeName) }
    }

    func testTanhNetworkIsNotExactAndSaysWhy() throws {
        let c = try Fixtures.load("tanh_mlp")
        let obstacle = try XCTUnwrap(c.graph.exactTraceObstacle)
        XCTAssertEqual(obstacle.node, "/Tanh")
        XCTAssertEqual(obstacle.op, "Tanh")
        XCTAssertThrowsError(try exact(c, batchSize: 12)) { error in
            let e = error as? SensitivityError
            XCTAssertEqual(e?.kind, .unsupported)
            XCTAssertTrue(e?.message.contains("'/Tanh' (Tanh)") ?? false, "\(error)")
            XCTAssertTrue(e?.message.contains("--method hutchinson") ?? false, "\(error)")
        }
    }

    func testAutoPicksExactOnReLUNetworks() throws {
        let c = try Fixtures.load("mlp")
        var options = TraceOptions()
        options.bits = []
        let result = try SensitivityAnalysis.run(graph: c.graph, dataset: c.dataset, options: options)
        XCTAssertEqual(result.job.method, .exact)
        XCTAssertNil(result.fallbackReason)
    }
}
