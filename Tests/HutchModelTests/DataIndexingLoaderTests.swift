import Foundation
import XCTest
@testable import HutchModel

/// What the loader makes of masks and indices computed from data (GraphBuilder+DataIndexing.swift):
/// the fixtures' real exports lower to the new IR ops, with the batch where the rules expect it.
final class DataIndexingLoaderTests: XCTestCase {
    private let fixtures = modelFixtures.deletingLastPathComponent()

    private func ops(_ name: String) throws -> [Op] {
        try ONNXLoader.load(contentsOf: fixtures.appendingPathComponent("\(name).onnx")).nodes.map(\.op)
    }

    func testHuggingFaceBERTMaskLowersToDataOps() throws {
        for name in ["hf_bert_mask_tiny", "hf_bert_mask_tiny_dynamo"] {
            let ops = try ops(name)
            for op in [Op.batchRange, .gatherND(batchDims: 0), .discrete(.and), .discrete(.notZero), .select] {
                XCTAssertTrue(ops.contains(op), "\(name): no \(op)")
            }
        }
    }

    /// as_strided after pooling: a Gather of the flattened [N * C] tensor by Range(0, N) * C + c.
    func testStridedPoolingLowersToAGatherOfEachExamplesRows() throws {
        let graph = try ONNXLoader.load(contentsOf: fixtures.appendingPathComponent("tiny_strided_pool_dynamo.onnx"))
        let gather = try XCTUnwrap(graph.nodes.first { $0.op == .gatherND(batchDims: 0) })
        let data = try XCTUnwrap(gather.inputs[0])
        XCTAssertEqual(graph.values[data.index].shape, [nil])
        XCTAssertEqual(graph.values[data.index].batchFactor, 4, "the flattened tensor holds 4 channels per example")
        XCTAssertEqual(graph.values[gather.outputs[0].index].shape, [nil, 4, 1, 1])
        XCTAssertTrue(graph.nodes.contains { $0.op == .batchRange })
    }

    func testMaxOfActivationsLowersToMax() throws {
        XCTAssertTrue(try ops("tiny_max").contains(.max))
    }

    private func expectRefusal(_ nodes: [TestNode], _ initializers: [TestTensor], contains parts: [String],
                               file: StaticString = #filePath, line: UInt = #line) {
        let bytes = makeModel(nodes: nodes, initializers: initializers, inputShape: [nil, 4])
        XCTAssertThrowsError(try ONNXLoader.load(bytes: bytes, source: "m.onnx"), file: file, line: line) { error in
            let text = "\(error)"
            XCTAssertFalse(text.contains("\n"), "one line: \(text)", file: file, line: line)
            for part in parts { XCTAssertTrue(text.contains(part), "'\(part)' missing in: \(text)", file: file, line: line) }
        }
    }

    /// What Hutch cannot keep per example is refused with one line naming the node and op.
    /// RoBERTa's token types: a constant buffer expanded to the batch and gathered (GatherElements)
    /// by indices that depend on the input. A buffer of one value lowers to indices * 0 (+ that
    /// value); any other buffer is refused by name.
    func testGatherElementsByDataFromAOneValueTableIsThatValue() throws {
        func model(_ buffer: [Float]) -> [UInt8] {
            makeModel(nodes: [
                TestNode("Shape", "shape", ["x"], ["s"]),
                TestNode("Slice", "batch", ["s", "zero", "one"], ["n"]),
                TestNode("Concat", "target", ["n", "six"], ["t"], [.int("axis", 0)]),
                TestNode("Expand", "expand", ["buffer", "t"], ["e"]),
                TestNode("GatherElements", "types", ["e", "x"], ["g"], [.int("axis", 1)]),
                TestNode("Add", "add", ["x", "g"], ["y"]),
            ], initializers: [
                .int64s("zero", [1], [0]), .int64s("one", [1], [1]), .int64s("six", [1], [6]), .floats("buffer", [1, 6], buffer),
            ], inputShape: [nil, 6])
        }
        for value: Float in [0, 2] {
            let graph = try ONNXLoader.load(bytes: model(Array(repeating: value, count: 6)), source: "m.onnx")
            let gather = graph.nodes.filter { $0.name.hasPrefix("types") }
            XCTAssertEqual(gather.map(\.op), value == 0 ? [.mul] : [.mul, .add], "\(value)")
            XCTAssertEqual(gather.last.map { graph.values[$0.outputs[0].index].shape }, [nil, 6])
            let zero = try XCTUnwrap(gather.first?.inputs[1] ?? nil)
            XCTAssertEqual(graph.initializers[zero]?.data, [0])
        }
        XCTAssertThrowsError(try ONNXLoader.load(bytes: model([0, 1, 2, 3, 4, 5]), source: "m.onnx")) { error in
            XCTAssertTrue("\(error)".contains("node 'types' (GatherElements) gathers by indices that depend on the input"), "\(error)")
        }
    }

    func testIndexingThatWouldMixExamplesIsRefused() {
        let batchSize = [TestNode("Shape", "shape", ["x"], ["s"]), TestNode("Gather", "n", ["s", "zero"], ["n"])]
        let constants: [TestTensor] = [.int64s("zero", [], [0]), .int64s("two", [], [2])]
        expectRefusal(batchSize + [TestNode("Range", "every_other", ["zero", "n", "two"], ["r"]), TestNode("Cast", "c", ["r"], ["y"], [.int("to", 1)])],
                      constants, contains: ["'every_other' (Range)", "Range(0, N, 1)"])
        expectRefusal([TestNode("GatherND", "rows", ["x", "pairs"], ["y"])], [.int64s("pairs", [2, 1], [0, 1])],
                      contains: ["'rows' (GatherND)", "batch on axis 0"])
        expectRefusal([TestNode("Cast", "ids", ["x"], ["i"], [.int("to", 7)]), TestNode("Gather", "columns", ["x", "i"], ["y"], [.int("axis", 1)])],
                      [], contains: ["'columns' (Gather)", "only along axis 0"])
    }
}
