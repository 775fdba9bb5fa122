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
        // the journal holds the layer (1.13 MB: record type 3), so the finished job needs no worker to write it again
        let journal = try FileManager.default.attributesOfItem(atPath: state + "/journal")[.size] as? Int ?? 0
        XCTAssertGreaterThan(journal, 1_100_000)
        try FileManager.default.removeItem(atPath: state + "/quantized.onnx")
        let again = try HutchProcess.run(["run", "--workers", "2", "--threads", "1"] + common + ["--bits", "8", "--avg-bits", "8", "--out", state])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertFalse(again.stderr.contains("workers connect to"), again.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: state + "/quantized.onnx")), try Data(contentsOf: URL(fileURLWithPath: local)))
    }
}
