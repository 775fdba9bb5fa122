import Foundation
import XCTest
@testable import HutchModel

/// Several named graph inputs (a BERT-style input_ids + attention_mask): packing, matching .npz
/// arrays by name, and the one-line errors when they do not match.
final class NamedInputTests: XCTestCase {
    private let fixtures = modelFixtures.deletingLastPathComponent()

    private func maskedBERT() throws -> Graph {
        try ONNXLoader.load(contentsOf: fixtures.appendingPathComponent("tiny_bert_mask.onnx"))
    }

    private func expectDataError(_ body: () throws -> Void, contains parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            guard case .invalidData(let message)? = error as? ModelError else {
                return XCTFail("expected invalidData, got \(error)", file: file, line: line)
            }
            for part in parts { XCTAssertTrue(message.contains(part), "'\(part)' missing in: \(message)", file: file, line: line) }
        }
    }

    private func writeNPZ(_ arrays: [(String, NumPyArray)]) throws -> URL {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hutch-\(UUID().uuidString).npz")
        try NumPyArchive.writeNPZ(arrays, to: path)
        addTeardownBlock { try? FileManager.default.removeItem(at: path) }
        return path
    }

    func testGraphPacksItsInputsByName() throws {
        let graph = try maskedBERT()
        XCTAssertEqual(graph.dataInputs, [DataInput(name: "attention_mask", exampleShape: [6], holdsIntegers: true),
                                          DataInput(name: "input_ids", exampleShape: [6], holdsIntegers: true)])
        XCTAssertEqual(graph.values[graph.input.index].shape, [nil, 12])
        XCTAssertTrue(graph.inputHoldsTokenIDs)
    }

    /// Arrays are packed per example in name order, whatever order the archive holds them in.
    func testNPZArraysArePackedPerExampleInNameOrder() throws {
        let ids = NumPyArray(shape: [2, 6], integers: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
        let mask = NumPyArray(shape: [2, 6], integers: [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0])
        let url = try writeNPZ([("input_ids", ids), ("labels", NumPyArray(shape: [2], integers: [2, 0])), ("attention_mask", mask)])
        let data = try Dataset(npz: url)
        try data.validate(against: try maskedBERT())
        XCTAssertEqual(data.labels, [2, 0])
        XCTAssertEqual(data.inputs.shape, [2, 12])
        XCTAssertEqual(data.inputs.data, [1, 1, 1, 1, 1, 1, 1, 2, 3, 4, 5, 6,
                                          1, 1, 1, 0, 0, 0, 7, 8, 9, 10, 11, 12])
        XCTAssertEqual(data.prefix(1).inputs.data, Array(data.inputs.data[..<12]))
    }

    func testMissingExtraAndMismatchedArraysAreNamed() throws {
        let graph = try maskedBERT()
        let ids = NumPyArray(shape: [2, 6], integers: Array(repeating: 1, count: 12))
        let y = NumPyArray(shape: [2], integers: [0, 1])
        let missing = try Dataset(npz: try writeNPZ([("input_ids", ids), ("y", y)]))
        expectDataError({ try missing.validate(against: graph) }, contains: ["'attention_mask'", "'input_ids'", "labels are array 'y'"])
        let extra = try Dataset(npz: try writeNPZ([("input_ids", ids), ("attention_mask", ids), ("token_type_ids", ids), ("y", y)]))
        expectDataError({ try extra.validate(against: graph) }, contains: ["'token_type_ids' is no input", "'attention_mask'"])
        let floatMask = try Dataset(npz: try writeNPZ([("input_ids", ids), ("attention_mask", NumPyArray(shape: [2, 6], float32: Array(repeating: 1, count: 12))), ("y", y)]))
        expectDataError({ try floatMask.validate(against: graph) }, contains: ["'attention_mask' takes integers", "float32"])
        let short = try Dataset(npz: try writeNPZ([("input_ids", ids), ("attention_mask", NumPyArray(shape: [2, 3], integers: Array(repeating: 1, count: 6))), ("y", y)]))
        expectDataError({ try short.validate(against: graph) }, contains: ["'attention_mask'", "[3]", "[6]"])
        expectDataError({ _ = try Dataset(npz: try writeNPZ([("input_ids", ids), ("attention_mask", NumPyArray(shape: [3, 6], integers: Array(repeating: 1, count: 18))), ("y", y)])) },
                        contains: ["'input_ids' has 2 examples", "'attention_mask'"])
        // one unnamed array (x, or --inputs X.npy) cannot feed two inputs
        let unnamed = try Dataset(inputs: ids, labels: y, inputsName: "x.npy", labelsName: "y.npy")
        expectDataError({ try unnamed.validate(against: graph) }, contains: ["2 inputs", "'attention_mask', 'input_ids'", "--data"])
    }
}
