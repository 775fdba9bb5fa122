import Foundation
import HutchModel
import XCTest

/// Hostile and broken inputs through the real command line: each gives exactly one error line
/// naming the problem and its documented exit code, and writes nothing.
final class BadInputTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hutch-bad-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private var example: URL { HutchProcess.repositoryRoot.appendingPathComponent("Examples/digits_resnet.onnx") }

    /// Four digits-shaped examples with the given pixels and labels, as an .npz.
    private func data(_ name: String, pixels: [Float]? = nil, labels: NumPyArray? = nil, count: Int = 4) throws -> String {
        let values = pixels ?? (0..<(count * 64)).map { Float($0 % 17) / 16 }
        let x = NumPyArray(shape: [count, 1, 8, 8], float32: values)
        let y = labels ?? NumPyArray(shape: [count], integers: (0..<count).map { Int64($0 % 10) })
        let url = directory.appendingPathComponent(name)
        try NumPyArchive.writeNPZ([("x", x), ("y", y)], to: url)
        return url.path
    }

    private func expectFailure(_ arguments: [String], status: Int32, mentioning needle: String,
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let out = directory.appendingPathComponent("out.json")
        let outcome = try HutchProcess.run(arguments + ["--out", out.path])
        XCTAssertEqual(outcome.status, status, outcome.stderr, file: file, line: line)
        let errors = outcome.stderr.split(separator: "\n").filter { $0.hasPrefix("hutch: error:") }
        XCTAssertEqual(errors.count, 1, outcome.stderr, file: file, line: line)
        XCTAssertTrue(outcome.stderr.localizedCaseInsensitiveContains(needle), "expected '\(needle)' in: \(outcome.stderr)",
                      file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), file: file, line: line)
    }

    func testLabelsOutOfRange() throws {
        let labels = NumPyArray(shape: [4], integers: [0, 1, 2, 10])
        try expectFailure(["trace", "--model", example.path, "--data", try data("labels.npz", labels: labels)],
                          status: 5, mentioning: "label")
    }

    func testNaNInData() throws {
        var pixels = (0..<256).map { Float($0 % 17) / 16 }
        pixels[70] = .nan
        try expectFailure(["trace", "--model", example.path, "--data", try data("nan.npz", pixels: pixels)],
                          status: 5, mentioning: "nan")
    }

    func testInfinityInData() throws {
        var pixels = (0..<256).map { Float($0 % 17) / 16 }
        pixels[3] = -.infinity
        try expectFailure(["trace", "--model", example.path, "--data", try data("inf.npz", pixels: pixels)],
                          status: 5, mentioning: "inf")
    }

    func testEmptyData() throws {
        let path = try data("empty.npz", pixels: [], labels: NumPyArray(shape: [0], integers: []), count: 0)
        try expectFailure(["trace", "--model", example.path, "--data", path], status: 5, mentioning: "empty")
    }

    func testFloatLabelsAreRefused() throws {
        let labels = NumPyArray(shape: [4], float32: [0, 1, 2, 3])
        try expectFailure(["trace", "--model", example.path, "--data", try data("float-labels.npz", labels: labels)],
                          status: 5, mentioning: "y")
    }

    func testCorruptNPZ() throws {
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: try data("good.npz"))))
        bytes[bytes.count / 2] ^= 0xFF
        let corrupt = directory.appendingPathComponent("corrupt.npz")
        try Data(bytes).write(to: corrupt)
        try expectFailure(["trace", "--model", example.path, "--data", corrupt.path], status: 5, mentioning: "corrupt.npz")
    }

    func testNaNWeightIsNamed() throws {
        var model = try ONNXLoader.decode(bytes: [UInt8](Data(contentsOf: example)), source: example.path)
        var graph = try XCTUnwrap(model.graph)
        let index = try XCTUnwrap(graph.initializers.firstIndex { $0.name == "fc.weight" })
        var raw = try XCTUnwrap(graph.initializers[index].rawData)
        withUnsafeBytes(of: Float.nan.bitPattern.littleEndian) { raw.replaceSubrange(8..<12, with: $0) }
        graph.initializers[index].rawData = raw
        model.graph = graph
        let broken = directory.appendingPathComponent("nan-weight.onnx")
        try Data(model.encoded()).write(to: broken)
        try expectFailure(["trace", "--model", broken.path, "--data", try data("ok.npz")],
                          status: 4, mentioning: "fc.weight")
    }

    func testTruncatedModelInTrace() throws {
        let bytes = try Data(contentsOf: example)
        let truncated = directory.appendingPathComponent("truncated.onnx")
        try bytes.prefix(bytes.count - 100).write(to: truncated)
        try expectFailure(["trace", "--model", truncated.path, "--data", try data("ok.npz")],
                          status: 4, mentioning: "truncated.onnx")
    }
}
