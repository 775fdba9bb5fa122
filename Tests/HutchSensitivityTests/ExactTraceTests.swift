import HutchModel
import HutchSensitivity
import HutchTensor
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
    /// Max of two activations (piecewise linear, so its Hessian is its Gauss-Newton matrix).
    func testMaxMatchesTorchHessianTraces() throws { try check("tiny_max", batchSize: 3) }

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

    /// A ReLU network that folds two rows per example into the batch ([N, 4] as [2N, 2], as
    /// attention folds heads) is piecewise linear, but exact traces take examples apart by rows.
    func testFoldingRowsIntoTheBatchRefusesExactTraces() throws {
        let values = [Value(name: "x", shape: [nil, 4]), Value(name: "rows", shape: [nil, 2]), Value(name: "w1", shape: [3, 2]),
                      Value(name: "h", shape: [nil, 3]), Value(name: "r", shape: [nil, 3]), Value(name: "back", shape: [nil, 6]),
                      Value(name: "w2", shape: [2, 6]), Value(name: "logits", shape: [nil, 2])]
        let v = (0..<values.count).map(ValueID.init)
        let nodes = [Node(name: "fold", op: .reshape(shape: [-1, 2]), inputs: [v[0]], outputs: [v[1]]),
                     Node(name: "fc1", op: .gemm(GemmAttributes(transB: true)), inputs: [v[1], v[2]], outputs: [v[3]]),
                     Node(name: "relu", op: .relu, inputs: [v[3]], outputs: [v[4]]),
                     Node(name: "unfold", op: .reshape(shape: [-1, 6]), inputs: [v[4]], outputs: [v[5]]),
                     Node(name: "fc2", op: .gemm(GemmAttributes(transB: true)), inputs: [v[5], v[6]], outputs: [v[7]])]
        let graph = Graph(values: values, nodes: nodes, input: v[0], output: v[7],
                          initializers: [v[2]: Tensor(shape: [3, 2], data: Array(repeating: 0.5, count: 6)),
                                         v[6]: Tensor(shape: [2, 6], data: Array(repeating: 0.25, count: 12))])
        let obstacle = try XCTUnwrap(graph.exactTraceObstacle)
        XCTAssertEqual(obstacle.node, "unfold", "fc1's input is already folded; the first node on fc1's path that moves rows")
        XCTAssertTrue(obstacle.reason.contains("moves the batch"), obstacle.reason)
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
