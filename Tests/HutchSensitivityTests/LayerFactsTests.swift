import HutchModel
import HutchQuantize
import HutchSensitivity
import HutchTensor
import XCTest

/// Tie groups, quantization errors and top eigenvalues.
final class LayerFactsTests: XCTestCase {
    func testShortcutAndMainPathConvsShareTheAddsTieGroup() throws {
        let c = try Fixtures.load("resnet_small")
        let names = c.graph.quantizableLayers.map(\.nodeName)
        let ties = Dictionary(uniqueKeysWithValues: zip(names, c.graph.tieGroups))
        XCTAssertEqual(ties["/block2/c2/conv/Conv"], "/block2/Add")
        XCTAssertEqual(ties["/block2/shortcut/conv/Conv"], "/block2/Add")
        // block1 adds its identity: no 1x1 conv, no tie
        XCTAssertEqual(c.graph.tieGroups.compactMap { $0 }.count, 2)
        XCTAssertNil(ties["/block1/c2/conv/Conv"] ?? nil)
    }

    func testQuantizationErrorsUseTheOutputChannelAxis() throws {
        let c = try Fixtures.load("mlp")
        let errors = try QuantizationErrors.compute(c.graph, bits: [2, 4, 8])
        for (l, layer) in c.graph.quantizableLayers.enumerated() {
            let weight = try XCTUnwrap(c.graph.initializers[layer.weight])
            let axis = layer.outputChannelAxis(in: c.graph)
            XCTAssertEqual(axis, layer.opType == "MatMul" ? 1 : 0, layer.nodeName)
            for b in [2, 4, 8] {
                let q = try WeightQuantizer.quantize(weight, bits: b, config: .init(granularity: .perChannel(axis: axis)))
                assertRelative(try XCTUnwrap(errors[l][b]), try q.squaredError(against: weight), 1e-9, "\(layer.nodeName) \(b) bits")
            }
            XCTAssertGreaterThan(errors[l][2]!, errors[l][4]!)
            XCTAssertGreaterThan(errors[l][4]!, errors[l][8]!)
        }
    }

    func testPowerIterationFindsTheTopEigenvalueOfTheDenseBlock() throws {
        let c = try Fixtures.load("mlp")
        let job = try SensitivityJob(method: .exact, samples: 12, batchSize: 5, layerCount: 3)
        let runner = try TaskRunner(graph: c.graph, dataset: c.dataset, job: job)
        let l = 2   // fc3: [4, 10], 40 parameters
        let layer = runner.layers[l]
        let n = layer.parameterCount
        // dense H_ll column by column
        var h = [[Double]]()
        for i in 0..<n {
            var e = [Float](repeating: 0, count: n)
            e[i] = 1
            h.append(try runner.layerHessianProduct(layer: l, Tensor(shape: layer.shape, data: e)))
        }
        // reference: many power iterations on the dense symmetric block, in double
        var v = [Double](repeating: 1, count: n)
        var lambda = 0.0
        for _ in 0..<5000 {
            var w = [Double](repeating: 0, count: n)
            for i in 0..<n { for j in 0..<n { w[i] += h[j][i] * v[j] } }
            lambda = zip(v, w).map(*).reduce(0, +) / zip(v, v).map(*).reduce(0, +)
            let norm = w.map { $0 * $0 }.reduce(0, +).squareRoot()
            v = w.map { $0 / norm }
        }
        let trace = (0..<n).map { h[$0][$0] }.reduce(0, +)
        assertRelative(trace, try XCTUnwrap(c.trace(layer.weightName)), 1e-4, "dense block trace")
        let estimate = try runner.topEigenvalue(layer: l, maxIterations: 100, tolerance: 1e-7)
        assertRelative(estimate, lambda, 1e-3, "top eigenvalue")
        XCTAssertLessThanOrEqual(estimate, trace * (1 + 1e-6))
    }
}
