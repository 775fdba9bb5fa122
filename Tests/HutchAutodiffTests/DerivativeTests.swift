import HutchTestSupport
import XCTest
import HutchModel
import HutchTensor
@testable import HutchAutodiff

/// Gradients and Hessian-vector products against central finite differences in Double.
final class DerivativeTests: XCTestCase {
    typealias Params = [ValueID: Tensor<Double>]

    struct Problem {
        var executor: Executor<Double>
        var input: Tensor<Double>
        var labels: [Int]
        var wrt: [ValueID]
    }

    /// Every initializer except batch-normalization statistics and parameters.
    func problem(_ made: (Graph, input: [Int], classes: Int), seed: UInt64 = 99) throws -> Problem {
        let (graph, shape, classes) = made
        let executor = try Executor<Double>(graph: graph)
        var rng = TestRandom(seed: seed)
        let bn = Set(graph.nodes.filter { if case .batchNormalization = $0.op { true } else { false } }
            .flatMap { $0.inputs.dropFirst().compactMap { $0 } })
        let wrt = graph.initializers.keys.filter { !bn.contains($0) }.sorted()
        let labels = (0..<shape[0]).map { _ in Int(rng.next() % UInt64(classes)) }
        return Problem(executor: executor, input: rng.tensor(shape), labels: labels, wrt: wrt)
    }

    func randomDirection(_ p: Problem, seed: UInt64) -> Params {
        var rng = TestRandom(seed: seed)
        var v = Params()
        for id in p.wrt { v[id] = rng.tensor(p.executor.parameters[id]!.shape) }
        return v
    }

    func shifted(_ p: Problem, _ v: Params, _ h: Double) -> Executor<Double> {
        var e = p.executor
        for (id, d) in v {
            let base = e.parameters[id]!
            e.parameters[id] = Tensor(shape: base.shape, data: zip(base.data, d.data).map { $0 + h * $1 })
        }
        return e
    }

    func loss(_ e: Executor<Double>, _ p: Problem) throws -> Double {
        try e.gradient(input: p.input, labels: p.labels, wrt: []).loss
    }

    func flat(_ g: Params, _ ids: [ValueID]) -> [Double] { ids.flatMap { g[$0]!.data } }

    func assertClose(_ a: [Double], _ b: [Double], tolerance: Double, _ message: String, line: UInt = #line) {
        let scale = max(1e-8, b.map(abs).max() ?? 0)
        let err = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        XCTAssertEqual(a.count, b.count, message, line: line)
        XCTAssertLessThan(err / scale, tolerance, "\(message): max error \(err), scale \(scale)", line: line)
    }

    func checkGradient(_ made: (Graph, input: [Int], classes: Int), name: String) throws {
        let p = try problem(made)
        let result = try p.executor.gradient(input: p.input, labels: p.labels, wrt: p.wrt)
        XCTAssertTrue(result.loss.isFinite && result.loss > 0)
        let h = 1e-6
        for id in p.wrt {
            let shape = p.executor.parameters[id]!.shape
            var fd = [Double]()
            for i in 0..<shape.reduce(1, *) {
                var e = Tensor<Double>(zeros: shape); e.data[i] = 1
                let plus = try loss(shifted(p, [id: e], h), p), minus = try loss(shifted(p, [id: e], -h), p)
                fd.append((plus - minus) / (2 * h))
            }
            assertClose(result.gradients[id]!.data, fd, tolerance: 1e-6, "\(name) gradient of \(p.executor.graph.values[id.index].name)")
        }
    }

    func checkHVP(_ made: (Graph, input: [Int], classes: Int), name: String) throws {
        let p = try problem(made)
        let v = randomDirection(p, seed: 5)
        let result = try p.executor.hessianVectorProducts(input: p.input, labels: p.labels, wrt: p.wrt, directions: [v])
        let h = 1e-4
        let plus = try shifted(p, v, h).gradient(input: p.input, labels: p.labels, wrt: p.wrt).gradients
        let minus = try shifted(p, v, -h).gradient(input: p.input, labels: p.labels, wrt: p.wrt).gradients
        let fd = zip(flat(plus, p.wrt), flat(minus, p.wrt)).map { ($0 - $1) / (2 * h) }
        assertClose(flat(result.products[0], p.wrt), fd, tolerance: 1e-6, "\(name) Hv")
        // the gradient returned alongside equals the plain gradient
        let g = try p.executor.gradient(input: p.input, labels: p.labels, wrt: p.wrt)
        assertClose(flat(result.gradients, p.wrt), flat(g.gradients, p.wrt), tolerance: 1e-14, "\(name) gradient")
        XCTAssertEqual(result.loss, g.loss)
    }

    func testGradientMatchesFiniteDifferencesOnResidualCNN() throws { try checkGradient(TestGraphs.residual(), name: "residual") }
    func testGradientMatchesFiniteDifferencesOnSmoothMLP() throws { try checkGradient(TestGraphs.smooth(), name: "smooth") }
    func testGradientMatchesFiniteDifferencesOnSmoothCNN() throws { try checkGradient(TestGraphs.smoothConv(), name: "smoothConv") }

    func testGradientAndHVPMatchFiniteDifferencesOn1DConvNet() throws {
        try checkGradient(TestGraphs.conv1D(), name: "conv1D")
        try checkHVP(TestGraphs.conv1D(), name: "conv1D")
    }

    func testHVPMatchesFiniteDifferencesOnResidualCNN() throws { try checkHVP(TestGraphs.residual(), name: "residual") }
    func testHVPMatchesFiniteDifferencesOnSmoothMLP() throws { try checkHVP(TestGraphs.smooth(), name: "smooth") }
    func testHVPMatchesFiniteDifferencesOnSmoothCNN() throws { try checkHVP(TestGraphs.smoothConv(), name: "smoothConv") }
    func testHVPMatchesFiniteDifferencesOnAttention() throws { try checkHVP(TestGraphs.attention(), name: "attention") }

    /// k directions in one call equal k single-direction calls; a direction may leave out parameters.
    func testBatchedProbesEqualSingleProbeCalls() throws {
        for made in [TestGraphs.residual(), TestGraphs.smooth(), TestGraphs.smoothConv()] {
            let p = try problem(made)
            var directions = (0..<3).map { randomDirection(p, seed: UInt64(20 + $0)) }
            directions[1] = directions[1].filter { $0.key.index % 2 == 0 }   // partial direction
            let batched = try p.executor.hessianVectorProducts(input: p.input, labels: p.labels, wrt: p.wrt, directions: directions)
            XCTAssertEqual(batched.products.count, 3)
            for (j, v) in directions.enumerated() {
                let single = try p.executor.hessianVectorProducts(input: p.input, labels: p.labels, wrt: p.wrt, directions: [v])
                assertClose(flat(batched.products[j], p.wrt), flat(single.products[0], p.wrt), tolerance: 1e-12, "probe \(j)")
            }
        }
    }

    /// Quadratic forms v_w^T (H v)_w equal inner products of full HVPs, in joint mode (all
    /// layers, one partial direction) and layer mode (one layer).
    func testQuadraticFormsEqualInnerProductsOfHVPs() throws {
        for made in [TestGraphs.residual(), TestGraphs.smooth(), TestGraphs.smoothConv(), TestGraphs.relu(), TestGraphs.conv1D(),
                     TestGraphs.attention()] {
            let p = try problem(made)
            let layers = p.executor.quantizableWeights
            var directions = (0..<3).map { randomDirection(p, seed: UInt64(60 + $0)).filter { layers.contains($0.key) } }
            directions[2] = directions[2].filter { $0.key != layers[0] }
            let full = try p.executor.hessianVectorProducts(input: p.input, labels: p.labels, wrt: layers, directions: directions)
            let forms = try p.executor.hessianQuadraticForms(input: p.input, labels: p.labels, directions: directions)
            XCTAssertEqual(forms.loss, full.loss)
            for j in 0..<3 {
                for w in layers {
                    let v = directions[j][w]?.data ?? Array(repeating: 0, count: p.executor.parameters[w]!.count)
                    let expected = zip(v, full.products[j][w]!.data).reduce(0) { $0 + $1.0 * $1.1 }
                    XCTAssertEqual(forms.forms[j][w]!, expected, accuracy: 1e-11 * max(1, abs(expected)), "probe \(j) layer \(w)")
                }
            }
            let one = layers[layers.count / 2]
            let layerMode = try p.executor.hessianQuadraticForms(input: p.input, labels: p.labels, directions: [[one: directions[0][one]!]])
            let single = try p.executor.hessianVectorProducts(input: p.input, labels: p.labels, wrt: [one], directions: [[one: directions[0][one]!]])
            let expected = zip(directions[0][one]!.data, single.products[0][one]!.data).reduce(0) { $0 + $1.0 * $1.1 }
            XCTAssertEqual(layerMode.forms[0][one]!, expected, accuracy: 1e-11 * max(1, abs(expected)))
            XCTAssertEqual(layerMode.forms[0].count, 1)
        }
    }

    /// Batches longer than a chunk of `hessianQuadraticForms` (8 examples): the chunk sums equal
    /// the inner products of whole-batch HVPs, a partial last chunk included.
    func testChunkedQuadraticFormsEqualInnerProductsOfHVPs() throws {
        for made in [TestGraphs.residual(), TestGraphs.relu(), TestGraphs.attention()] {
            let p = try problem((made.0, [19] + made.input.dropFirst(), made.classes))
            let layers = p.executor.quantizableWeights
            let directions = (0..<2).map { randomDirection(p, seed: UInt64(70 + $0)).filter { layers.contains($0.key) } }
            let full = try p.executor.hessianVectorProducts(input: p.input, labels: p.labels, wrt: layers, directions: directions)
            let forms = try p.executor.hessianQuadraticForms(input: p.input, labels: p.labels, directions: directions)
            XCTAssertEqual(forms.loss, full.loss, accuracy: 1e-12 * full.loss)
            for j in 0..<2 {
                for w in layers {
                    let expected = zip(directions[j][w]!.data, full.products[j][w]!.data).reduce(0) { $0 + $1.0 * $1.1 }
                    XCTAssertEqual(forms.forms[j][w]!, expected, accuracy: 1e-11 * max(1, abs(expected)), "probe \(j) layer \(w)")
                }
            }
        }
    }

    /// u^T H v = v^T H u.
    func testHessianIsSymmetric() throws {
        let p = try problem(TestGraphs.smooth())
        let u = randomDirection(p, seed: 31), v = randomDirection(p, seed: 32)
        let r = try p.executor.hessianVectorProducts(input: p.input, labels: p.labels, wrt: p.wrt, directions: [u, v])
        let uHv = zip(flat(u, p.wrt), flat(r.products[1], p.wrt)).reduce(0) { $0 + $1.0 * $1.1 }
        let vHu = zip(flat(v, p.wrt), flat(r.products[0], p.wrt)).reduce(0) { $0 + $1.0 * $1.1 }
        XCTAssertEqual(uHv, vHu, accuracy: 1e-12 * max(1, abs(uHv)))
    }

    /// Float agrees with Double on the same graph (the production path).
    func testFloatMatchesDouble() throws {
        let made = TestGraphs.residual()
        let p = try problem(made)
        let f = try Executor<Float>(graph: made.0)
        let v = randomDirection(p, seed: 41)
        let rd = try p.executor.hessianVectorProducts(input: p.input, labels: p.labels, wrt: p.wrt, directions: [v])
        let rf = try f.hessianVectorProducts(input: p.input.converted(), labels: p.labels, wrt: p.wrt,
                                             directions: [v.mapValues { $0.converted() }])
        XCTAssertEqual(Double(rf.loss), rd.loss, accuracy: 1e-5 * rd.loss)
        assertClose(flat(rf.products[0].mapValues { $0.converted() }, p.wrt), flat(rd.products[0], p.wrt), tolerance: 1e-4, "float Hv")
    }
}

/// Reproducibility facts the sensitivity module relies on (checked in Float, bit for bit).
final class ReproducibilityTests: XCTestCase {
    func testResultsDoNotDependOnCallGroupingBitForBit() throws {
        let (graph, shape, classes) = TestGraphs.residual()
        let e = try Executor<Float>(graph: graph)
        var rng = TestRandom(seed: 8)
        let input = Tensor<Float>(shape: shape, data: rng.array(shape.reduce(1, *)).map(Float.init))
        let labels = (0..<shape[0]).map { $0 % classes }
        let wrt = e.quantizableWeights
        let directions: [[ValueID: Tensor<Float>]] = (0..<3).map { _ in
            Dictionary(uniqueKeysWithValues: wrt.map { id in
                (id, Tensor<Float>(shape: e.parameters[id]!.shape, data: (0..<e.parameters[id]!.count).map { _ in rng.next() & 1 == 0 ? -1 : 1 }))
            })
        }
        let a = try e.hessianVectorProducts(input: input, labels: labels, wrt: wrt, directions: directions)
        let b = try e.hessianVectorProducts(input: input, labels: labels, wrt: wrt, directions: directions)
        for j in 0..<3 { for id in wrt { XCTAssertEqual(a.products[j][id]!.data, b.products[j][id]!.data) } }
        let t1 = try e.exactHessianTraceSums(input: input, layers: wrt)
        let t2 = try e.exactHessianTraceSums(input: input, layers: wrt)
        XCTAssertEqual(t1, t2)
        // a probe's product does not depend on which probes share its call
        for j in 0..<3 {
            let single = try e.hessianVectorProducts(input: input, labels: labels, wrt: wrt, directions: [directions[j]])
            for id in wrt { XCTAssertEqual(single.products[0][id]!.data, a.products[j][id]!.data, "probe \(j)") }
        }
        let grouped = try e.hessianQuadraticForms(input: input, labels: labels, directions: directions)
        for j in 0..<3 {
            let alone = try e.hessianQuadraticForms(input: input, labels: labels, directions: [directions[j]])
            XCTAssertEqual(alone.forms[0], grouped.forms[j], "quadratic forms of probe \(j)")
        }
        // chunks of the batch run on as many threads as there are: the same bits at any count
        let long = Tensor<Float>(shape: [21] + shape.dropFirst(), data: rng.array(21 * input.count / shape[0]).map(Float.init))
        let longLabels = (0..<21).map { $0 % classes }
        let serial = try Kernels.withThreads(1) { () throws(ExecutionError) in
            try e.hessianQuadraticForms(input: long, labels: longLabels, directions: directions)
        }
        for budget in [2, 3] {
            let parallel = try Kernels.withThreads(budget) { () throws(ExecutionError) in
                try e.hessianQuadraticForms(input: long, labels: longLabels, directions: directions)
            }
            XCTAssertEqual(parallel.forms, serial.forms, "\(budget) threads")
            XCTAssertEqual(parallel.loss, serial.loss)
        }
        // seed chunking changes GEMM shapes in the norms, so only rounding may differ
        let t3 = try e.exactHessianTraceSums(input: input, layers: wrt, maxStackedExamples: shape[0])
        for id in wrt { XCTAssertEqual(t1[id]!, t3[id]!, accuracy: 1e-5 * t1[id]!) }
    }
}
