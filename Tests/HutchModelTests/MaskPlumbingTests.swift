import HutchModel
import XCTest

/// The attention-mask plumbing exporters write (GraphBuilder+Masks.swift): the IsNaN guard after
/// a softmax, and constants expanded to the batch size for elementwise use only.
final class MaskPlumbingTests: XCTestCase {
    private func load(_ nodes: [TestNode], _ initializers: [TestTensor]) throws -> Graph {
        try ONNXLoader.load(bytes: makeModel(nodes: nodes, initializers: initializers, inputShape: [nil, 3]), source: "m.onnx")
    }

    private func refusal(_ nodes: [TestNode], _ initializers: [TestTensor]) -> String {
        do { _ = try load(nodes, initializers); return "" } catch { return "\(error)" }
    }

    func testTheNaNGuardAfterASoftmaxIsTheSoftmax() throws {
        let graph = try load([TestNode("Softmax", "s", ["x"], ["p"]), TestNode("IsNaN", "nan", ["p"], ["bad"]),
                              TestNode("Where", "guard", ["bad", "zero", "p"], ["y"])],
                             [.floats("zero", [], [0])])
        XCTAssertEqual(graph.nodes.map(\.op), [.softmax(axis: 1)])
        XCTAssertEqual(graph.output, graph.nodes[0].outputs[0])
    }

    func testIsNaNOfDataIsReadOnlyAsThatGuard() {
        let swapped = refusal([TestNode("IsNaN", "nan", ["x"], ["bad"]), TestNode("Where", "w", ["bad", "x", "zero"], ["y"])],
                              [.floats("zero", [], [0])])
        XCTAssertTrue(swapped.contains("'w'") && swapped.contains("Where(IsNaN(x), 0, x)"), swapped)
        let other = refusal([TestNode("IsNaN", "nan", ["x"], ["bad"]), TestNode("Add", "a", ["bad", "x"], ["y"])], [])
        XCTAssertTrue(other.contains("'a'") && other.contains("IsNaN"), other)
    }

    /// A constant expanded to [N, 3] and added to the data stays [1, 3]: the Add broadcasts it.
    func testAConstantExpandedToTheBatchFeedsElementwiseOpsAsItIs() throws {
        let graph = try load([TestNode("Shape", "shape", ["x"], ["s"]), TestNode("Expand", "e", ["c", "s"], ["ce"]),
                              TestNode("Add", "add", ["x", "ce"], ["y"])],
                             [.floats("c", [1, 3], [1, 2, 3])])
        XCTAssertEqual(graph.nodes.map(\.op), [.add])
        let constant = try XCTUnwrap(graph.nodes[0].inputs[1])
        XCTAssertEqual(graph.initializers[constant]?.shape, [1, 3])
        XCTAssertEqual(graph.initializers[constant]?.data, [1, 2, 3])
    }

    /// Swin builds its shifted-window mask from constants: ScatterND of slices, Pad, Expand,
    /// comparisons and Not are evaluated at load time.
    func testMaskBuildingOpsFoldOnConstants() throws {
        let graph = try load([
            TestNode("ScatterND", "scatter", ["zeros", "at", "twos"], ["marked"]),       // [0, 2]
            TestNode("Pad", "pad", ["marked", "pads"], ["wide"]),                         // [0, 0, 2]
            TestNode("Greater", "gt", ["wide", "one"], ["big"]),                          // [0, 0, 1]
            TestNode("Not", "not", ["big"], ["small"]),                                   // [1, 1, 0]
            TestNode("Expand", "e", ["small", "shape"], ["row"]),                         // [[1, 1, 0]]
            TestNode("Cast", "cast", ["row"], ["mask"], [.int("to", 1)]),
            TestNode("Add", "add", ["x", "mask"], ["y"]),
        ], [.floats("zeros", [2], [0, 0]), .int64s("at", [1, 1], [1]), .floats("twos", [1], [2]),
            .int64s("pads", [2], [1, 0]), .floats("one", [], [1]), .int64s("shape", [2], [1, 3])])
        let mask = try XCTUnwrap(graph.nodes.first?.inputs[1])
        XCTAssertEqual(graph.initializers[mask]?.data, [1, 1, 0])
        XCTAssertEqual(graph.initializers[mask]?.shape, [1, 3])
    }

    /// BERT's token types: GatherElements of a constant, folded at load time.
    func testGatherElementsFoldsOnConstants() throws {
        let graph = try load([TestNode("GatherElements", "ge", ["table", "at"], ["picked"], [.int("axis", 1)]),
                              TestNode("Cast", "cast", ["picked"], ["f"], [.int("to", 1)]),
                              TestNode("Add", "add", ["x", "f"], ["y"])],
                             [.int64s("table", [1, 4], [10, 11, 12, 13]), .int64s("at", [1, 3], [3, 0, 3])])
        let constant = try XCTUnwrap(graph.nodes.first?.inputs[1])
        XCTAssertEqual(graph.initializers[constant]?.data, [13, 10, 13])
    }

    /// Hostile constants get one-line errors, not traps: a float Range of 1e30 entries, an Expand
    /// to a negative or zero dimension (with and without the batch size).
    func testHugeRangesAndNonPositiveExpandsAreRefused() {
        let range = refusal([TestNode("Range", "r", ["zero", "huge", "one"], ["v"]), TestNode("Add", "add", ["x", "v"], ["y"])],
                            [.floats("zero", [], [0]), .floats("huge", [], [1e30]), .floats("one", [], [1])])
        XCTAssertTrue(range.contains("'r'") && range.contains("too long"), range)
        let expand = refusal([TestNode("Expand", "e", ["c", "shape"], ["ce"]), TestNode("Add", "add", ["x", "ce"], ["y"])],
                             [.floats("c", [1, 3], [1, 2, 3]), .int64s("shape", [2], [1, -3])])
        XCTAssertTrue(expand.contains("'e'"), expand)
        let toBatch = refusal([TestNode("Shape", "shape", ["x"], ["s"]), TestNode("Gather", "g", ["s", "i0"], ["n"]),
                               TestNode("Concat", "cat", ["n", "zero3"], ["target"], [.int("axis", 0)]),
                               TestNode("Expand", "e", ["c", "target"], ["ce"]), TestNode("Add", "add", ["x", "ce"], ["y"])],
                              [.floats("c", [1, 3], [1, 2, 3]), .int64s("i0", [1], [0]), .int64s("zero3", [1], [0])])
        XCTAssertTrue(toBatch.contains("'e'") && toBatch.contains("must be positive"), toBatch)
    }

    /// ... but through a folded Add into a Concat it would stand for the wrong shape: refused.
    func testAnExpandedConstantOutsideElementwiseOpsIsRefused() {
        let text = refusal([TestNode("Shape", "shape", ["x"], ["s"]), TestNode("Expand", "e", ["c", "s"], ["ce"]),
                            TestNode("Add", "twice", ["ce", "c"], ["cc"]), TestNode("Concat", "cat", ["x", "cc"], ["y"], [.int("axis", 1)])],
                           [.floats("c", [1, 3], [1, 2, 3])])
        XCTAssertTrue(text.contains("'cat'") && text.contains("expanded to the batch size"), text)
    }
}
