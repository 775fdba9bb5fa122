import HutchTestSupport
import XCTest
import HutchModel
import HutchTensor
@testable import HutchAutodiff

/// Bad inputs give one-line typed errors naming what is wrong, never traps.
final class ErrorTests: XCTestCase {
    func message(_ body: () throws -> Void) -> String {
        do { try body(); return "" } catch { return "\(error)" }
    }

    func testBadInputsAreReportedWithOneLineMessages() throws {
        let (graph, shape, classes) = TestGraphs.residual()
        let e = try Executor<Double>(graph: graph)
        var rng = TestRandom(seed: 1)
        let input = rng.tensor(shape)
        let fc = e.quantizableWeights.last!

        var m = message { _ = try e.gradient(input: input, labels: [0, classes], wrt: [fc]) }
        XCTAssertTrue(m.contains("label \(classes)") && m.contains("outside"), m)
        m = message { _ = try e.gradient(input: input, labels: [0], wrt: [fc]) }
        XCTAssertTrue(m.contains("1 labels for a batch of 2"), m)
        m = message { _ = try e.logits(rng.tensor([2, 3, 5, 6])) }
        XCTAssertTrue(m.contains("input 'input'") && m.contains("[?, 3, 6, 6]"), m)
        m = message { _ = try e.gradient(input: input, labels: [0, 1], wrt: [graph.input]) }
        XCTAssertTrue(m.contains("'input' is not an initializer"), m)
        let bnScale = graph.nodes.first { if case .batchNormalization = $0.op { true } else { false } }!.inputs[1]!
        m = message { _ = try e.gradient(input: input, labels: [0, 1], wrt: [bnScale]) }
        XCTAssertTrue(m.contains("batch-normalization parameters"), m)
        m = message { _ = try e.hessianVectorProducts(input: input, labels: [0, 1], wrt: [fc], directions: [[fc: Tensor(zeros: [2, 2])]]) }
        XCTAssertTrue(m.contains("has shape [2, 2], expected [5, 4]"), m)
        for text in [m] { XCTAssertFalse(text.contains("\n")) }
    }

    func testShapeMismatchInsideTheGraphNamesTheNode() throws {
        var b = GraphBuilder(seed: 1, input: [nil, 3, 4, 4])
        let h = b.node(conv([3, 3]), [b.input, b.parameter("w", [2, 5, 3, 3]), nil], name: "/features/conv1")
        let e = try Executor<Double>(graph: b.graph(output: h))
        var rng = TestRandom(seed: 2)
        let x = rng.tensor([1, 3, 4, 4])
        let m = message { _ = try e.logits(x) }
        XCTAssertTrue(m.hasPrefix("node '/features/conv1' (Conv): convolution channels do not match"), m)
    }

    func testNonFiniteWeightsAndDataAreRejected() throws {
        var (graph, shape, _) = TestGraphs.relu()
        var rng = TestRandom(seed: 3)
        var input = rng.tensor(shape)
        input.data[input.count / shape[0] + 2] = .nan
        let e = try Executor<Double>(graph: graph)
        let m = message { _ = try e.logits(input) }
        XCTAssertTrue(m.contains("non-finite value (nan) in example 1"), m)
        let w = graph.initializers.keys.sorted()[0]
        graph.initializers[w]!.data[3] = .infinity
        XCTAssertThrowsError(try Executor<Float>(graph: graph)) {
            XCTAssertTrue("\($0)".contains("initializer 'c1.w' has a non-finite value (inf) at flat index 3"), "\($0)")
        }
    }

    func testWrongArityIsRejectedAtLoad() {
        var b = GraphBuilder(seed: 1, input: [nil, 3])
        let h = b.node(.add, [b.input])
        XCTAssertThrowsError(try Executor<Float>(graph: b.graph(output: h))) {
            XCTAssertTrue("\($0)".contains("(Add): has 1 inputs"), "\($0)")
        }
    }
}
