import Foundation
import XCTest
@testable import HutchModel

/// Models decoded from a memory-mapped file: the same Graph as from the file's bytes, tensors'
/// raw data that are slices of the mapping (not copies), and the same one-line errors for files
/// that are cut short, corrupt, empty or missing.
final class MappedModelTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hutch-mapped-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func assertSameGraph(_ a: Graph, _ b: Graph, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.values, b.values, what, file: file, line: line)
        XCTAssertEqual(a.nodes, b.nodes, what, file: file, line: line)
        XCTAssertEqual([a.input, a.output], [b.input, b.output], what, file: file, line: line)
        XCTAssertEqual(a.initializers, b.initializers, what, file: file, line: line)
        XCTAssertEqual(a.inputHoldsTokenIDs, b.inputHoldsTokenIDs, what, file: file, line: line)
        XCTAssertEqual(a.dataInputs.map(\.name), b.dataInputs.map(\.name), what, file: file, line: line)
    }

    /// Embedded raw data (TorchScript exports), typed fields, and external data (the default exporter's).
    let fixtures = ["resnetish_ts_opset13.onnx", "mlp_dynamo.onnx", "depthwise_ts_opset17.onnx", "resnetish_dynamo_external.onnx"]

    func testAMappedFileLoadsTheGraphOfItsBytes() throws {
        for name in fixtures {
            let url = modelFixtures.appendingPathComponent(name)
            let mapped = try ONNXLoader.load(contentsOf: url)
            let fromBytes = try ONNXLoader.load(bytes: [UInt8](try Data(contentsOf: url)), source: url.path)
            XCTAssertFalse(mapped.initializers.isEmpty, name)
            assertSameGraph(mapped, fromBytes, name)
        }
        // a transformer export: integer constants, folded shape computations, several inputs
        let bert = modelFixtures.deletingLastPathComponent().appendingPathComponent("tiny_bert_mask.onnx")
        assertSameGraph(try ONNXLoader.load(contentsOf: bert),
                        try ONNXLoader.load(bytes: [UInt8](try Data(contentsOf: bert)), source: bert.path), "tiny_bert_mask.onnx")
    }

    func testTensorsAreSlicesOfTheMappedFileNotCopies() throws {
        let url = modelFixtures.appendingPathComponent("resnetish_ts_opset13.onnx")
        let storage = try XCTUnwrap(ByteStorage.mapping(url.path), "a regular file maps")
        XCTAssertEqual(storage.count, try Data(contentsOf: url).count)
        let proto = try ONNXLoader.decode(storage: storage, source: url.path)
        let raw = (proto.graph?.initializers ?? []).compactMap(\.rawSlice)
        XCTAssertGreaterThan(raw.count, 3)
        XCTAssertTrue(raw.allSatisfy { $0.storage === storage }, "raw_data point into the mapping")
        // external data: slices of the mapped data file, moved into raw_data by inlined() without a copy
        let external = modelFixtures.appendingPathComponent("resnetish_dynamo_external.onnx")
        let files = ExternalDataFiles(modelPath: external.path)
        let inlined = try files.inlined(try ONNXLoader.decode(storage: try XCTUnwrap(ByteStorage.mapping(external.path)), source: external.path))
        let dataSize = try Data(contentsOf: URL(fileURLWithPath: external.path + ".data")).count
        let slices = (inlined.graph?.initializers ?? []).compactMap(\.rawSlice).filter { $0.storage.count == dataSize }
        XCTAssertGreaterThan(slices.count, 3)
        XCTAssertEqual(Set(slices.map { ObjectIdentifier($0.storage) }).count, 1, "one mapping of the data file")
    }

    func testCutAndCorruptFilesKeepTheErrorsOfTheirBytes() throws {
        let bytes = [UInt8](try Data(contentsOf: modelFixtures.appendingPathComponent("resnetish_ts_opset13.onnx")))
        var corrupt = bytes
        corrupt[corrupt.count / 3] = 0xFF   // a field tag or length in the middle
        corrupt[corrupt.count / 3 + 1] = 0xFF
        let variants = stride(from: 1, to: bytes.count, by: bytes.count / 13).map { Array(bytes[..<$0]) } + [corrupt, Array("not a model".utf8), []]
        var refused = 0
        for (index, variant) in variants.enumerated() {
            let url = directory.appendingPathComponent("v\(index).onnx")
            try Data(variant).write(to: url)
            let mapped = Result { try ONNXLoader.load(contentsOf: url) }
            let fromBytes = Result { try ONNXLoader.load(bytes: variant, source: url.path) }
            switch (mapped, fromBytes) {
            case (.failure(let a), .failure(let b)):
                refused += 1
                XCTAssertEqual(a as? ModelError, b as? ModelError, "variant \(index)")
                XCTAssertEqual("\(a)".split(separator: "\n").count, 1, "\(a)")
            case (.success(let a), .success(let b)):
                assertSameGraph(a, b, "variant \(index)")
            default:
                XCTFail("variant \(index): mapped \(mapped), bytes \(fromBytes)")
            }
        }
        XCTAssertGreaterThan(refused, 10, "cut files are refused")
        let empty = directory.appendingPathComponent("v\(variants.count - 1).onnx")
        XCTAssertThrowsError(try ONNXLoader.load(contentsOf: empty)) { XCTAssertTrue("\($0)".contains("the file is empty"), "\($0)") }
    }

    func testFilesThatCannotBeMappedAreReadWithTheirUsualErrors() throws {
        XCTAssertNil(ByteStorage.mapping(directory.path), "a directory")
        XCTAssertNil(ByteStorage.mapping(directory.appendingPathComponent("missing.onnx").path))
        for url in [directory.appendingPathComponent("missing.onnx"), directory!] {
            let mapped = Result { try ONNXLoader.load(contentsOf: url) }
            let read = Result { try ONNXLoader.readFile(url) }
            guard case .failure(let a) = mapped, case .failure(let b) = read else { return XCTFail("\(url.path) read") }
            XCTAssertEqual(a as? ModelError, b as? ModelError)
            XCTAssertTrue("\(a)".hasPrefix("\(url.path): cannot read the file ("), "\(a)")
        }
        // what `read` gives stands in for a file that cannot be mapped (a pipe, an empty file)
        let empty = directory.appendingPathComponent("empty")
        try Data().write(to: empty)
        XCTAssertNil(ByteStorage.mapping(empty.path))
        XCTAssertEqual(Array(try ByteStorage.contents(of: empty.path) { _ in [1, 2, 3] }.all), [1, 2, 3])
    }

    /// Released pages are read again from the file: the digest (which releases as it goes) and
    /// the bytes afterwards are those of the file.
    func testReleasedPagesReadBackTheFilesBytes() throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let bytes = (0..<(9 << 20) + 123).map { _ -> UInt8 in state = state &* 6_364_136_223_846_793_005 &+ 1; return UInt8(state >> 56) }
        let url = directory.appendingPathComponent("blob")
        try Data(bytes).write(to: url)
        let storage = try XCTUnwrap(ByteStorage.mapping(url.path))
        XCTAssertEqual(Digest.sha256(storage), Digest.sha256(bytes))
        storage.releasePages(4097..<storage.count)
        XCTAssertTrue(Array(storage.all) == bytes, "the same bytes after their pages were released")
        let copied = ByteStorage(copying: bytes)
        copied.releasePages(0..<copied.count)   // a copy keeps its bytes
        XCTAssertEqual(Digest.sha256(copied), Digest.sha256(bytes))
    }

    func testAMappingOutlivesItsLastReaderOnlyThroughItsSlices() throws {
        let url = directory.appendingPathComponent("m.onnx")
        try Data(try Data(contentsOf: modelFixtures.appendingPathComponent("mlp_dynamo.onnx"))).write(to: url)
        var tensors: [ONNXTensorProto] = []
        do {
            let proto = try ONNXLoader.decode(storage: try XCTUnwrap(ByteStorage.mapping(url.path)), source: url.path)
            tensors = proto.graph?.initializers ?? []
        }
        try FileManager.default.removeItem(at: url)   // the mapping keeps the pages
        let fromBytes = try ONNXLoader.decode(bytes: [UInt8](try Data(contentsOf: modelFixtures.appendingPathComponent("mlp_dynamo.onnx"))),
                                              source: "m.onnx")
        XCTAssertEqual(tensors.map(\.rawData), (fromBytes.graph?.initializers ?? []).map(\.rawData))
    }
}
