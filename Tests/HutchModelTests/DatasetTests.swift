import Foundation
import XCTest
@testable import HutchModel

final class DatasetTests: XCTestCase {
    private let numpy = modelFixtures.appendingPathComponent("numpy")

    /// resnetish: input [N, 3, 8, 8], 10 classes; the fixture data has labels 3 and 9.
    private func resnet() throws -> Graph {
        try ONNXLoader.load(contentsOf: modelFixtures.appendingPathComponent("resnetish_ts_opset13.onnx"))
    }

    private func expectDataError(_ body: () throws -> Void, contains parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            guard case .invalidData(let message)? = error as? ModelError else {
                return XCTFail("expected invalidData, got \(error)", file: file, line: line)
            }
            for part in parts { XCTAssertTrue(message.contains(part), "'\(part)' missing in: \(message)", file: file, line: line) }
        }
    }

    /// int64 inputs are token ids: exact as float32 below 2^24, and only for a model whose input
    /// is integer (and the other way round).
    func testTokenIDsAreExactAndMatchTheModelsInputKind() throws {
        let labels = NumPyArray(shape: [2], integers: [0, 1])
        let ids = try Dataset(inputs: NumPyArray(shape: [2, 3], integers: [0, 5, 16_777_215, 7, 8, 9]), labels: labels,
                              inputsName: "ids", labelsName: "y")
        XCTAssertTrue(ids.holdsTokenIDs)
        XCTAssertEqual(ids.inputs.data[2], 16_777_215)
        expectDataError({ _ = try Dataset(inputs: NumPyArray(shape: [1, 1], integers: [1 << 24]), labels: NumPyArray(shape: [1], integers: [0]),
                                          inputsName: "ids", labelsName: "y") }, contains: ["ids", "16777216", "2^24"])
        let graph = try resnet()
        let floats = try Dataset(npz: numpy.appendingPathComponent("data_deflated.npz"))
        let asIDs = try Dataset(inputs: NumPyArray(shape: [2, 3, 8, 8], integers: Array(repeating: 1, count: 384)), labels: labels,
                                inputsName: "x", labelsName: "y")
        expectDataError({ try asIDs.validate(against: graph) }, contains: ["integers", "float32"])
        var tokenModel = graph
        tokenModel.inputHoldsTokenIDs = true
        expectDataError({ try floats.validate(against: tokenModel) }, contains: ["token ids", "int64"])
    }

    func testLoadsFromNPZAndFromTwoNPYFiles() throws {
        let graph = try resnet()
        XCTAssertEqual(graph.classCount, 10)
        XCTAssertEqual(graph.inputExampleShape, [3, 8, 8])
        let fromNPZ = try Dataset(npz: numpy.appendingPathComponent("data_deflated.npz"))
        let fromNPY = try Dataset(inputs: numpy.appendingPathComponent("x.npy"), labels: numpy.appendingPathComponent("y.npy"))
        for data in [fromNPZ, fromNPY] {
            try data.validate(against: graph)
            XCTAssertEqual(data.count, 2)
            XCTAssertEqual(data.labels, [3, 9])
            XCTAssertEqual(data.inputs.shape, [2, 3, 8, 8])
            XCTAssertEqual(data.inputs.data[5], Float(5) / 100 - 1)
        }
        let first = fromNPZ.prefix(1)
        XCTAssertEqual(first.count, 1)
        XCTAssertEqual(first.inputs.shape, [1, 3, 8, 8])
        XCTAssertEqual(first.inputs.data, Array(fromNPZ.inputs.data[..<192]))
        XCTAssertEqual(fromNPZ.prefix(50).count, 2)
    }

    func testShapeAndDtypeMismatchNameExpectedAndFound() throws {
        let graph = try resnet()
        let wrongShape = try Dataset(inputs: NumPyArray(shape: [2, 3, 4, 4], float32: Array(repeating: 0, count: 96)),
                                     labels: NumPyArray(shape: [2], integers: [0, 1]), inputsName: "x", labelsName: "y")
        expectDataError({ try wrongShape.validate(against: graph) }, contains: ["[3, 4, 4]", "[3, 8, 8]", "'x'"])
        expectDataError({
            _ = try Dataset(inputs: NumPyArray(shape: [2, 3], float64: Array(repeating: 0, count: 6)),
                            labels: NumPyArray(shape: [2], integers: [0, 1]), inputsName: "in.npy", labelsName: "y")
        }, contains: ["in.npy", "float64", "float32"])
        // float labels are regression targets (loss mse): refused against a classifier's [N, 10]
        let floatLabels = try Dataset(inputs: NumPyArray(shape: [2, 3, 8, 8], float32: Array(repeating: 0, count: 384)),
                                      labels: NumPyArray(shape: [2], float32: [0, 1]), inputsName: "x", labelsName: "labels.npy")
        expectDataError({ try floatLabels.validate(against: graph) }, contains: ["labels.npy holds float targets", "[N, 10]", "class labels must be integers"])
        let tokenLabels = try Dataset(inputs: NumPyArray(shape: [2, 3, 8, 8], float32: Array(repeating: 0, count: 384)),
                                      labels: NumPyArray(shape: [2, 3], integers: [0, 1, -100, 2, 3, 4]), inputsName: "x", labelsName: "y")
        expectDataError({ try tokenLabels.validate(against: graph) }, contains: ["[N, 3] token labels", "[N, 10]"])
        expectDataError({
            _ = try Dataset(inputs: NumPyArray(shape: [2, 3], float32: Array(repeating: 0, count: 6)),
                            labels: NumPyArray(shape: [2], integers: [0, -100]), inputsName: "x", labelsName: "labels.npy")
        }, contains: ["labels.npy", "label -100", "class indices"])
    }

    func testLabelsOutOfRange() throws {
        let graph = try resnet()
        let data = try Dataset(inputs: NumPyArray(shape: [2, 3, 8, 8], float32: Array(repeating: 0, count: 384)),
                               labels: NumPyArray(shape: [2], integers: [1, 10]), inputsName: "x", labelsName: "y")
        expectDataError({ try data.validate(against: graph) }, contains: ["label 10", "index 1", "10 classes"])
        expectDataError({
            _ = try Dataset(inputs: NumPyArray(shape: [2, 1], float32: [0, 0]),
                            labels: NumPyArray(shape: [2], integers: [0, -1]), inputsName: "x", labelsName: "y")
        }, contains: ["label -1", "index 1"])
    }

    func testEmptyNaNAndCountMismatch() {
        expectDataError({
            _ = try Dataset(inputs: NumPyArray(shape: [0, 3], float32: []), labels: NumPyArray(shape: [0], integers: []),
                            inputsName: "x", labelsName: "y")
        }, contains: ["empty"])
        expectDataError({
            _ = try Dataset(inputs: NumPyArray(shape: [2, 2], float32: [0, 1, .infinity, 0]),
                            labels: NumPyArray(shape: [2], integers: [0, 1]), inputsName: "x", labelsName: "y")
        }, contains: ["flat index 2", "example 1"])
        expectDataError({
            _ = try Dataset(inputs: NumPyArray(shape: [2, 2], float32: [0, 1, 2, 3]),
                            labels: NumPyArray(shape: [3], integers: [0, 1, 1]), inputsName: "x", labelsName: "y")
        }, contains: ["3 labels", "2 examples"])
    }

    func testNPZWithoutXAndY() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hutch-\(UUID().uuidString).npz")
        defer { try? FileManager.default.removeItem(at: path) }
        try NumPyArchive.writeNPZ([("inputs", NumPyArray(shape: [1], float32: [0]))], to: path)
        expectDataError({ _ = try Dataset(npz: path) }, contains: ["'x'", "'y'", "'inputs'"])
    }
}
