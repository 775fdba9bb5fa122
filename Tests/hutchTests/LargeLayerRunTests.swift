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
        var state: UInt32 = 11
        func values(_ n: Int, scale: Float) -> [Float] {
            (0..<n).map { _ in state = state &* 1_664_525 &+ 1_013_904_223; return (Float(state >> 8) / Float(1 << 24) - 0.5) * scale }
        }
        func tensor(_ name: String, _ dims: [Int64], _ data: [Float]) -> ONNXTensorProto {
            var t = ONNXTensorProto()
            t.name = name
            t.dims = dims
            t.dataType = ONNXTensorProto.DataType.float.rawValue
            t.floatData = data
            return t
        }
        func gemm(_ name: String, _ inputs: [String], _ output: String) -> ONNXNodeProto {
            var node = ONNXNodeProto()
            node.name = name
            node.opType = "Gemm"
            node.inputs = inputs
            node.outputs = [output]
            var transB = ONNXAttributeProto()
            transB.name = "transB"
            transB.type = ONNXAttributeProto.Kind.int.rawValue
            transB.i = 1
            node.attributes = [transB]
            return node
        }
        func info(_ name: String, _ dims: [ONNXValueInfoProto.Dimension]) -> ONNXValueInfoProto {
            var v = ONNXValueInfoProto()
            v.name = name
            v.elemType = ONNXTensorProto.DataType.float.rawValue
            v.shape = dims
            return v
        }
        var relu = ONNXNodeProto()
        relu.name = "relu"
        relu.opType = "Relu"
        relu.inputs = ["h"]
        relu.outputs = ["r"]
        var graph = ONNXGraphProto()
        graph.name = "large"
        graph.initializers = [tensor("w1", [1024, 1100], values(1024 * 1100, scale: 0.06)), tensor("b1", [1024], values(1024, scale: 0.1)),
                              tensor("w2", [10, 1024], values(10 * 1024, scale: 0.06)), tensor("b2", [10], values(10, scale: 0.1))]
        graph.nodes = [gemm("fc1", ["x", "w1", "b1"], "h"), relu, gemm("fc2", ["r", "w2", "b2"], "logits")]
        graph.inputs = [info("x", [.param("N"), .value(1100)])]
        graph.outputs = [info("logits", [.param("N"), .value(10)])]
        var model = ONNXModelProto()
        model.irVersion = 8
        var opset = ONNXOperatorSetID()
        opset.version = 17
        model.opsetImports = [opset]
        model.graph = graph
        let modelPath = directory.appendingPathComponent("large.onnx").path
        try Data(model.encoded()).write(to: URL(fileURLWithPath: modelPath))
        let labels = [Int64](0..<8).map { $0 % 10 }
        let x = NumPyArray(shape: [8, 1100], float32: values(8 * 1100, scale: 2))
        let y = try XCTUnwrap(NumPyArray(dtype: .int64, shape: [8], bytes: labels.flatMap { v in (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }))
        let dataPath = directory.appendingPathComponent("data.npz").path
        try Data(NumPyArchive.npzData([("x", x), ("y", y)])).write(to: URL(fileURLWithPath: dataPath))
        return (modelPath, dataPath)
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
