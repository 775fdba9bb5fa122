import Foundation
import HutchTestSupport
import XCTest
import HutchModel
import HutchTensor
@testable import HutchAutodiff

/// The C - 1 exact-trace seeds (SoftmaxCrossEntropy.exactTraceSeeds) against the C rows of
/// A_i = diag(sqrt p_i)(I - 1 p_i^T) that they replace.
final class ExactSeedTests: XCTestCase {
    func logits(_ rows: [[Double]]) -> Stacked<Double> {
        Stacked(Tensor(shape: [rows.count, rows[0].count], data: rows.flatMap { $0 }))
    }

    /// sum_j b_j b_j^T = diag(p) - p p^T for ordinary, near one-hot, tied and underflowing rows.
    func testSeedsFactorTheLogitHessian() {
        var rng = TestRandom(seed: 21)
        let rows: [[Double]] = [
            rng.array(6),
            rng.array(6, scale: 40),                 // near one-hot
            [0, 0, 0, 0, 0, 0],                       // uniform: a tie for the most probable class
            [900, 0, 1, -3, 2, 900],                  // p = 0 after underflow, tie at the top
            [0, 30, -25, 29.5, 5, -40],
        ]
        let ce = SoftmaxCrossEntropy(logits: logits(rows))
        let (seeds, count) = ce.exactTraceSeeds()
        let (n, c) = (rows.count, 6)
        XCTAssertEqual(count, c - 1)
        for i in 0..<n {
            let p = (0..<c).map { ce.probabilities[i * c + $0] }
            for a in 0..<c {
                for b in 0..<c {
                    let m = (a == b ? p[a] : 0) - p[a] * p[b]
                    let bb = (0..<count).reduce(0.0) { $0 + seeds[($1 * n + i) * c + a] * seeds[($1 * n + i) * c + b] }
                    XCTAssertEqual(bb, m, accuracy: 1e-14, "example \(i), entry \(a) \(b)")
                }
            }
            for j in 0..<count {   // every seed is orthogonal to 1, as M 1 = 0
                let sum = (0..<c).reduce(0.0) { $0 + seeds[(j * n + i) * c + $1] }
                XCTAssertEqual(sum, 0, accuracy: 1e-14)
            }
        }
    }

    /// A NaN in the logits gives NaN seeds for that example (so NaN traces), not zeros.
    func testNaNLogitsGiveNaNSeeds() {
        let ce = SoftmaxCrossEntropy(logits: logits([[0, 1, 2], [0, .nan, 1]]))
        let (seeds, count) = ce.exactTraceSeeds()
        for j in 0..<count {
            XCTAssertTrue((0..<3).allSatisfy { seeds[(j * 2 + 0) * 3 + $0].isFinite })
            XCTAssertTrue((0..<3).allSatisfy { seeds[(j * 2 + 1) * 3 + $0].isNaN })
        }
    }

    /// The old formulation: C seeds per example, the rows of A_i.
    func rowsOfA(_ e: Executor<Double>, _ input: Tensor<Double>) throws -> Tensor<Double> {
        let logits = try e.logits(input)
        let (n, c) = (logits.shape[0], logits.shape[1])
        var seeds = [Double](repeating: 0, count: c * n * c)
        for i in 0..<n {
            let z = logits.data[(i * c)..<((i + 1) * c)]
            let top = z.max()!
            let ex = z.map { Foundation.exp($0 - top) }
            let p = ex.map { $0 / ex.reduce(0, +) }
            for j in 0..<c {
                for l in 0..<c { seeds[(j * n + i) * c + l] = p[j].squareRoot() * ((j == l ? 1 : 0) - p[l]) }
            }
        }
        return Tensor(shape: [c, n, c], data: seeds)
    }

    /// Traces from C - 1 seeds equal those from the C rows of A, on several nets (the residual
    /// one puts a convolution on the Gram path), also with near one-hot probabilities.
    func testRankCMinusOneSeedsGiveTheTracesOfTheCRowsOfA() throws {
        for made in [TestGraphs.residual(), TestGraphs.relu(), TestGraphs.smoothConv(), TestGraphs.conv1D()] {
            let (graph, shape, _) = made
            let e = try Executor<Double>(graph: graph)
            for scale in [1.0, 30.0] {
                var rng = TestRandom(seed: 22)
                let input = rng.tensor(shape, scale: scale)
                let layers = e.quantizableWeights
                let traces = try e.exactHessianTraceSums(input: input, layers: layers)
                let old = try e.perExampleGradientSquaredNorms(input: input, seeds: rowsOfA(e, input), layers: layers)
                for w in layers {
                    let expected = old[w]!.data.reduce(0, +)
                    XCTAssertGreaterThan(expected, 0)
                    XCTAssertEqual(traces[w]!, expected, accuracy: 1e-10 * expected, "\(graph.values[w.index].name), scale \(scale)")
                }
            }
        }
    }

    /// A ReLU CNN with 10 classes (9 seeds: more than one seed group) whose convolutions take
    /// the Gram path.
    func tenClassNet() -> (Graph, input: [Int]) {
        var b = GraphBuilder(seed: 24, input: [nil, 3, 4, 4])
        var h = b.node(conv([3, 3], pads: [1, 1, 1, 1]), [b.input, b.parameter("c1.w", [8, 3, 3, 3]), b.parameter("c1.b", [8])])
        h = b.node(.relu, [h])
        h = b.node(conv([3, 3], strides: [2, 2], pads: [1, 1, 1, 1]), [h, b.parameter("c2.w", [8, 8, 3, 3]), nil])
        h = b.node(.relu, [h])
        h = b.node(.flatten(axis: 1), [h])
        h = b.node(.gemm(GemmAttributes(transB: true)), [h, b.parameter("fc.w", [10, 32]), b.parameter("fc.b", [10])])
        return (b.graph(output: h), [5, 3, 4, 4])
    }

    /// Float traces: the same bits however the 9 seeds are cut into reverse passes (8 + 1 or 9),
    /// and to rounding the same with narrower norm GEMMs (fewer seeds per pass).
    /// Exact traces stack seeds × examples copies of the activations: a budget in bytes bounds
    /// them (at least 8, at most 2048 stacked examples), whatever the class count or the batch.
    func testExactStacksAreBoundedByTheMemoryBudget() throws {
        let (graph, _) = tenClassNet()
        let e = try Executor<Float>(graph: graph)
        // every value that is not a weight, by its per-example elements (input 3x4x4, two convs, logits)
        let activations = graph.values.indices.filter { graph.initializers[ValueID($0)] == nil }.reduce(0) { sum, i in
            guard let shape = graph.values[i].shape else { return sum }
            return sum + shape.dropFirst().reduce(1) { $0 * ($1 ?? 1) }
        }
        XCTAssertGreaterThan(activations, 40)
        for budget in [1, activations * 4 * 8, activations * 4 * 100, activations * 4 * 100 + 3, 1 << 40] {
            XCTAssertEqual(e.exactStackedExamples(budgetBytes: budget), min(2048, max(8, budget / (activations * 4))), "budget \(budget)")
        }
        XCTAssertEqual(e.exactStackedExamples(), 2048, "a small network stacks as before")
    }

    /// The seeds' (C - 1) C scalars per example are held for a group of examples at a time: 1000
    /// classes give groups of 67; groups of 2 sum, to rounding, what the examples alone give.
    func testExactSeedsAreHeldForGroupsOfExamples() throws {
        let (graph, shape) = tenClassNet()
        let e = try Executor<Float>(graph: graph)
        XCTAssertEqual(Executor<Float>.exactSeedGroup(classes: 10), 745_654)
        XCTAssertEqual(Executor<Float>.exactSeedGroup(classes: 1000), 67)
        XCTAssertEqual(Executor<Float>.exactSeedGroup(classes: 10, budgetBytes: 9 * 10 * 4 * 2 + 5), 2)
        XCTAssertEqual(Executor<Float>.exactSeedGroup(classes: 10, budgetBytes: 1), 1)
        var rng = TestRandom(seed: 5)
        let input = Tensor(shape: shape, data: rng.array(shape.reduce(1, *)).map(Float.init))
        let grouped = try e.exactHessianTraceSums(input: input, layers: e.quantizableWeights, seedBudgetBytes: 9 * 10 * 4 * 2)
        let per = input.count / shape[0]
        var alone = [ValueID: Double]()
        for i in 0..<shape[0] {
            let one = Tensor(shape: [1] + shape.dropFirst(), data: Array(input.data[(i * per)..<((i + 1) * per)]))
            for (w, s) in try e.exactHessianTraceSums(input: one, layers: e.quantizableWeights) { alone[w, default: 0] += s }
        }
        for w in e.quantizableWeights {
            let (a, b) = (try XCTUnwrap(grouped[w]), try XCTUnwrap(alone[w]))
            XCTAssertGreaterThan(a, 0)
            XCTAssertEqual(a, b, accuracy: 1e-5 * b)
        }
    }

    func testExactTraceSumsDoNotDependOnSeedPasses() throws {
        let (graph, shape) = tenClassNet()
        let e = try Executor<Float>(graph: graph)
        var rng = TestRandom(seed: 23)
        let input = Tensor(shape: shape, data: rng.array(shape.reduce(1, *)).map(Float.init))
        let layers = e.quantizableWeights
        let whole = try e.exactHessianTraceSums(input: input, layers: layers)
        for perPass in [1, 4, 5, 8, 10] {
            let cut = try e.exactHessianTraceSums(input: input, layers: layers, maxStackedExamples: perPass * shape[0])
            for w in layers {
                XCTAssertGreaterThan(whole[w]!, 0)
                if perPass >= Executor<Float>.seedStack {
                    XCTAssertEqual(cut[w]!.bitPattern, whole[w]!.bitPattern, "\(graph.values[w.index].name), \(perPass) seeds per pass")
                } else {
                    XCTAssertEqual(cut[w]!, whole[w]!, accuracy: 1e-6 * whole[w]!, "\(graph.values[w.index].name), \(perPass) seeds per pass")
                }
            }
        }
        // the cost rule sends both convolutions to the Gram path
        let c1 = try ConvGeometry(input: [5, 3, 4, 4], weight: [8, 3, 3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [], group: 1)
        let c2 = try ConvGeometry(input: [5, 8, 4, 4], weight: [8, 8, 3, 3], strides: [2, 2], pads: [1, 1, 1, 1], dilations: [], group: 1)
        XCTAssertTrue(Kernels.gramIsCheaper(c1, blocks: 9))
        XCTAssertTrue(Kernels.gramIsCheaper(c2, blocks: 9))
    }
}
