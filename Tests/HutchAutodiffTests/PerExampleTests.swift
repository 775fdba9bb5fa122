import HutchTestSupport
import XCTest
import HutchModel
import HutchTensor
@testable import HutchAutodiff

/// Per-example gradient norms and exact traces against explicit computations.
final class PerExampleTests: XCTestCase {
    /// Per-example gradient of sum_c s[c] f_n,c w.r.t. `weight`, by a plain reverse sweep whose
    /// seed is zero except on example n.
    func explicitGradient(_ e: Executor<Double>, _ input: Tensor<Double>, example n: Int, seed s: [Double],
                          weight: ValueID) throws -> [Double] {
        let tape = try e.forwardTape(input)
        let c = s.count
        let seed = Stacked<Double>(shape: [input.shape[0], c])
        for j in 0..<c { seed.pointer[n * c + j] = s[j] }
        var need = e.dependents(of: [weight])
        need[e.graph.output.index] = true
        let (adjoints, _) = try e.reverseSweep(tape, need: need, seed: seed)
        return adjoints[weight.index]?.tensor(block: 0).data ?? []
    }

    func testPerExampleNormsMatchExplicitPerExampleGradients() throws {
        for made in [TestGraphs.residual(), TestGraphs.smooth(), TestGraphs.relu(), TestGraphs.conv1D()] {
            let (graph, shape, classes) = made
            let e = try Executor<Double>(graph: graph)
            var rng = TestRandom(seed: 3)
            let input = rng.tensor(shape)
            let s = 3
            let seeds = rng.tensor([s, shape[0], classes])
            let layers = e.quantizableWeights
            XCTAssertFalse(layers.isEmpty)
            // a small stacking limit forces several seed chunks
            let norms = try e.perExampleGradientSquaredNorms(input: input, seeds: seeds, layers: layers, maxStackedExamples: shape[0] * 2)
            for w in layers {
                XCTAssertEqual(norms[w]!.shape, [s, shape[0]])
                for j in 0..<s {
                    for n in 0..<shape[0] {
                        let row = Array(seeds.data[((j * shape[0] + n) * classes)..<((j * shape[0] + n + 1) * classes)])
                        let g = try explicitGradient(e, input, example: n, seed: row, weight: w)
                        let expected = g.reduce(0) { $0 + $1 * $1 }
                        XCTAssertEqual(norms[w]!.data[j * shape[0] + n], expected, accuracy: 1e-10 * max(1, expected),
                                       "\(graph.values[w.index].name) seed \(j) example \(n)")
                    }
                }
            }
        }
    }

    /// On a piecewise-linear net the exact trace equals the trace of the Hessian block, here
    /// built column by column: all unit directions of the layer as one batched HVP call.
    func testExactTracesEqualExplicitHessianBlockTraceOnReluNet() throws {
        let (graph, shape, classes) = TestGraphs.relu()
        let e = try Executor<Double>(graph: graph)
        var rng = TestRandom(seed: 4)
        let input = rng.tensor(shape)
        let labels = (0..<shape[0]).map { $0 % classes }
        let layers = e.quantizableWeights
        let exact = try e.exactHessianTraces(input: input, layers: layers)
        for w in layers {
            let wShape = e.parameters[w]!.shape
            let count = wShape.reduce(1, *)
            let directions: [[ValueID: Tensor<Double>]] = (0..<count).map { i in
                var t = Tensor<Double>(zeros: wShape); t.data[i] = 1
                return [w: t]
            }
            let r = try e.hessianVectorProducts(input: input, labels: labels, wrt: [w], directions: directions)
            let trace = (0..<count).reduce(0.0) { $0 + r.products[$1][w]!.data[$1] }
            XCTAssertGreaterThan(trace, 0)
            XCTAssertEqual(exact[w]!, trace, accuracy: 1e-10 * trace, graph.values[w.index].name)
        }
    }

    /// On a smooth net the exact-mode number is the Gauss-Newton trace
    /// (1/N) sum_i sum_c ||sum_c' A_i[c, c'] J_i[c']||^2, checked against per-logit gradients.
    func testExactTracesEqualGaussNewtonFormula() throws {
        let (graph, shape, classes) = TestGraphs.smoothConv()
        let e = try Executor<Double>(graph: graph)
        var rng = TestRandom(seed: 5)
        let input = rng.tensor(shape)
        let layers = e.quantizableWeights
        let exact = try e.exactHessianTraces(input: input, layers: layers)
        let logits = try e.logits(input)
        let n = shape[0]
        for w in layers {
            var total = 0.0
            for i in 0..<n {
                let z = Array(logits.data[(i * classes)..<((i + 1) * classes)])
                let top = z.max()!
                let ex = z.map { Foundation.exp($0 - top) }
                let p = ex.map { $0 / ex.reduce(0, +) }
                let jac = try (0..<classes).map { c -> [Double] in
                    var onehot = [Double](repeating: 0, count: classes); onehot[c] = 1
                    return try explicitGradient(e, input, example: i, seed: onehot, weight: w)
                }
                for c in 0..<classes {
                    var row = [Double](repeating: 0, count: jac[0].count)
                    for c2 in 0..<classes {
                        let a = p[c].squareRoot() * ((c == c2 ? 1 : 0) - p[c2])
                        for q in row.indices { row[q] += a * jac[c2][q] }
                    }
                    total += row.reduce(0) { $0 + $1 * $1 }
                }
            }
            XCTAssertEqual(exact[w]!, total / Double(n), accuracy: 1e-10 * total, graph.values[w.index].name)
        }
    }

    func testExactTraceSumsAddUpOverBatches() throws {
        let (graph, shape, _) = TestGraphs.relu()
        let e = try Executor<Double>(graph: graph)
        var rng = TestRandom(seed: 6)
        let input = rng.tensor(shape)
        let layers = e.quantizableWeights
        let whole = try e.exactHessianTraceSums(input: input, layers: layers)
        let per = input.count / shape[0]
        var parts = [ValueID: Double]()
        for n in 0..<shape[0] {
            let one = Tensor(shape: [1] + shape.dropFirst(), data: Array(input.data[(n * per)..<((n + 1) * per)]))
            for (w, v) in try e.exactHessianTraceSums(input: one, layers: layers) { parts[w, default: 0] += v }
        }
        for w in layers { XCTAssertEqual(whole[w]!, parts[w]!, accuracy: 1e-12 * whole[w]!) }
    }
}
