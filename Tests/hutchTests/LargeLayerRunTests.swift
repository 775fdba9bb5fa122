import Foundation
import HutchModel
import XCTest

/// `hutch run` with a layer whose quantized form is over the 1 MiB RESULT body limit (ResNet-18's
/// layer4 is): the workers keep it as a blob and the coordinator pulls it in chunks; the output
/// equals `hutch plan` + `hutch quantize` on the same sensitivity file.
final class LargeLayerRunTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hutch-large-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    /// x [N, 1100] → Gemm 1024×1100 (1.13 M weights: 1.13 MB at 8 bits) → Relu → Gemm 10×1024.
    func writeModel() throws -> (model: String, data: String) {
        try GemmModelFiles.write(in: directory, name: "large", inputs: 1100, hidden: 1024, classes: 10, examples: 8)
    }

    func testALayerOverTheResultLimitIsPulledAsABlob() throws {
        let (model, data) = try writeModel()
        let state = directory.appendingPathComponent("state").path
        let common = ["--model", model, "--data", data, "--samples", "8", "--batch-size", "4", "--method", "hutchinson", "--probes", "4"]
        let run = try HutchProcess.run(["run", "--workers", "2", "--threads", "1"] + common + ["--bits", "8", "--avg-bits", "8", "--out", state])
        XCTAssertEqual(run.status, 0, run.stderr)
        // the same plan and quantization in one process, from the cluster's sensitivity file
        let plan = directory.appendingPathComponent("plan.json").path, local = directory.appendingPathComponent("local.onnx").path
        let planned = try HutchProcess.run(["plan", "--sensitivity", state + "/sensitivity.json", "--bits", "8", "--avg-bits", "8", "--out", plan])
        XCTAssertEqual(planned.status, 0, planned.stderr)
        let quantized = try HutchProcess.run(["quantize", "--model", model, "--plan", plan, "--data", data, "--out", local])
        XCTAssertEqual(quantized.status, 0, quantized.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: state + "/quantized.onnx")), try Data(contentsOf: URL(fileURLWithPath: local)))
        // the layers are files in state/layers by digest (the large one 1.13 MB), the journal holds
        // their digests only, and the finished job needs no worker to write the model again
        let layers = state + "/layers"
        let files = try FileManager.default.contentsOfDirectory(atPath: layers).sorted()
        XCTAssertEqual(files.count, 2)
        let sizes = try files.map { try FileManager.default.attributesOfItem(atPath: layers + "/" + $0)[.size] as? Int ?? 0 }
        XCTAssertGreaterThan(sizes.max() ?? 0, 1_100_000)
        for (name, size) in zip(files, sizes) {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: layers + "/" + name))
            XCTAssertEqual(bytes.count, size)
            XCTAssertEqual("sha256:" + name, Digest.sha256([UInt8](bytes)), "named by its digest")
        }
        let journal = try FileManager.default.attributesOfItem(atPath: state + "/journal")[.size] as? Int ?? 0
        XCTAssertLessThan(journal, 100_000)
        try FileManager.default.removeItem(atPath: state + "/quantized.onnx")
        let again = try HutchProcess.run(["run", "--workers", "2", "--threads", "1"] + common + ["--bits", "8", "--avg-bits", "8", "--out", state])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertFalse(again.stderr.contains("workers connect to"), again.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: state + "/quantized.onnx")), try Data(contentsOf: URL(fileURLWithPath: local)))
        // a layer file gone (and the model): that task is leased again, with one line, the same bytes
        let large = try XCTUnwrap(zip(files, sizes).max { $0.1 < $1.1 }?.0)
        try FileManager.default.removeItem(atPath: layers + "/" + large)
        try FileManager.default.removeItem(atPath: state + "/quantized.onnx")
        let redo = try HutchProcess.run(["run", "--workers", "2", "--threads", "1"] + common + ["--bits", "8", "--avg-bits", "8", "--out", state])
        XCTAssertEqual(redo.status, 0, redo.stderr)
        XCTAssertEqual(redo.stderr.components(separatedBy: "missing or damaged in the state directory; the task runs again").count, 2, redo.stderr)
        XCTAssertTrue(redo.stderr.contains("workers connect to"), redo.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: state + "/quantized.onnx")), try Data(contentsOf: URL(fileURLWithPath: local)))
        XCTAssertTrue(FileManager.default.fileExists(atPath: layers + "/" + large), "the layer is back")
        // the journal now has a second record of that task after the end: a later run passes over it
        try FileManager.default.removeItem(atPath: state + "/quantized.onnx")
        let last = try HutchProcess.run(["run", "--workers", "2", "--threads", "1"] + common + ["--bits", "8", "--avg-bits", "8", "--out", state])
        XCTAssertEqual(last.status, 0, last.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: state + "/quantized.onnx")), try Data(contentsOf: URL(fileURLWithPath: local)))
    }
}
