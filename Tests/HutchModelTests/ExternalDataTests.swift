import Foundation
import XCTest
@testable import HutchModel

/// Models whose weights PyTorch's default exporter writes to `NAME.onnx.data`: they load with the
/// same weights as the embedded export, and a hostile or broken reference to the data file is one
/// clear error naming the tensor.
final class ExternalDataTests: XCTestCase {
    let model = modelFixtures.appendingPathComponent("resnetish_dynamo_external.onnx")
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hutch-external-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func testTheDefaultExportersExternalDataLoadsWithTheEmbeddedWeights() throws {
        let proto = try ONNXLoader.decode(bytes: try ONNXLoader.readFile(model), source: model.path)
        XCTAssertTrue(proto.graph?.initializers.contains { $0.usesExternalData } ?? false, "the fixture keeps its weights outside")
        XCTAssertEqual(ExternalDataFiles.locations(of: proto), ["resnetish_dynamo_external.onnx.data"])
        let external = try ONNXLoader.load(contentsOf: model)
        // the same pair loaded by the onnx package and saved with every tensor inside (make_external.py)
        let embedded = try ONNXLoader.load(contentsOf: modelFixtures.appendingPathComponent("resnetish_dynamo_external_inlined.onnx"))
        XCTAssertEqual(external.quantizableLayers.count, 5, "stem, two 3x3 convs, the 1x1 shortcut, fc")
        XCTAssertEqual(external.quantizableLayers.map(\.shape), embedded.quantizableLayers.map(\.shape))
        let weights = { (g: Graph) in g.quantizableLayers.map { g.initializers[$0.weight]?.data ?? [] } }
        XCTAssertEqual(weights(external), weights(embedded), "the same export, with the weights inside or beside the file")
        XCTAssertEqual(Set(external.initializers.values.map(\.data)), Set(embedded.initializers.values.map(\.data)), "every tensor, not only the weights")
    }

    /// The fixture with one initializer's external entries changed, written with a copy of the data file.
    func variant(_ change: (inout [ONNXTensorProto]) -> Void) throws -> URL {
        var proto = try ONNXLoader.decode(bytes: try ONNXLoader.readFile(model), source: model.path)
        var tensors = proto.graph?.initializers ?? []
        change(&tensors)
        proto.graph?.initializers = tensors
        let url = directory.appendingPathComponent("model.onnx")
        try Data(proto.encoded()).write(to: url)
        let data = modelFixtures.appendingPathComponent("resnetish_dynamo_external.onnx.data")
        let copy = directory.appendingPathComponent("resnetish_dynamo_external.onnx.data")
        if !FileManager.default.fileExists(atPath: copy.path) { try FileManager.default.copyItem(at: data, to: copy) }
        return url
    }

    func set(_ key: String, _ value: String, in tensor: inout ONNXTensorProto) {
        tensor.externalData.removeAll { $0.key == key }
        tensor.externalData.append((key, value))
    }

    func assertRefused(_ url: URL, _ fragments: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try ONNXLoader.load(contentsOf: url), file: file, line: line) { error in
            let text = "\(error)"
            XCTAssertEqual(text.split(separator: "\n").count, 1, text, file: file, line: line)
            for fragment in fragments { XCTAssertTrue(text.contains(fragment), "\(fragment) in: \(text)", file: file, line: line) }
        }
    }

    func firstExternal(_ tensors: [ONNXTensorProto]) -> Int { tensors.firstIndex { $0.usesExternalData } ?? 0 }

    func testLocationsThatLeaveTheModelsFolderAreRefused() throws {
        for location in ["../resnetish_dynamo_external.onnx.data", "/etc/passwd", "sub/../../x"] {
            var name = ""
            let url = try variant { t in let i = firstExternal(t); name = t[i].name; set("location", location, in: &t[i]) }
            assertRefused(url, ["tensor '\(name)'", "leaves the model's folder"])
        }
        // a symbolic link beside the model that points elsewhere
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("hutch-outside-\(UUID().uuidString)")
        try Data(repeating: 0, count: 1 << 20).write(to: outside)
        defer { try? FileManager.default.removeItem(at: outside) }
        try FileManager.default.createSymbolicLink(at: directory.appendingPathComponent("link.data"), withDestinationURL: outside)
        let url = try variant { t in let i = firstExternal(t); set("location", "link.data", in: &t[i]); set("offset", "0", in: &t[i]) }
        assertRefused(url, ["leads outside the model's folder"])
    }

    func testShortOverlappingAndMissingRangesAreRefused() throws {
        var name = ""
        let past = try variant { t in let i = firstExternal(t); name = t[i].name; set("offset", "100000000", in: &t[i]) }
        assertRefused(past, ["tensor '\(name)'", "past its end"])
        let overlap = try variant { t in
            let external = t.indices.filter { t[$0].usesExternalData }
            let offset = t[external[0]].externalData.first { $0.key == "offset" }?.value ?? "0"
            set("offset", offset, in: &t[external[1]])
        }
        assertRefused(overlap, ["overlap tensor"])
        let garbage = try variant { t in let i = firstExternal(t); set("length", "-4", in: &t[i]) }
        assertRefused(garbage, ["is not a byte count"])
        let missing = try variant { t in let i = firstExternal(t); name = t[i].name; set("location", "gone.data", in: &t[i]) }
        assertRefused(missing, ["tensor '\(name)'", "'gone.data'", "copy it beside the model"])
        let truncated = directory.appendingPathComponent("resnetish_dynamo_external.onnx.data")
        let handle = try FileHandle(forWritingTo: truncated)
        try handle.truncate(atOffset: 100)
        try handle.close()
        assertRefused(try variant { _ in }, ["past its end", "truncated"])
    }

    func testAModelLoadedFromBytesWithoutItsFolderSaysWhy() throws {
        let bytes = try ONNXLoader.readFile(model)
        XCTAssertThrowsError(try ONNXLoader.load(bytes: bytes, source: "/nowhere/model.onnx")) { error in
            XCTAssertTrue("\(error)".contains("is not in /nowhere"), "\(error)")
        }
    }
}
