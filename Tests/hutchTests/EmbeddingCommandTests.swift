import Foundation
import HutchModel
import HutchQuantize
import XCTest

/// An embedding table as a layer through the commands (tiny_embed: Gather of a [20, 8] table by
/// token ids, mean, Linear, ReLU, Linear): inspect shows it, plan gives it a width, quantize
/// writes it per row in the QDQ model and the packed file.
final class EmbeddingCommandTests: XCTestCase {
    var directory: URL!
    let model = "Tests/Fixtures/tiny_embed.onnx", data = "Tests/Fixtures/tiny_embed_ref.npz"

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hutch-embed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func testInspectListsTheTableAsAnEmbeddingWithNoMACs() throws {
        let text = try HutchProcess.run(["inspect", model])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("quantizable layers: 3, 248 parameters, 88 MACs per example"), text.stdout)
        let row = text.stdout.split(separator: "\n").first { $0.contains("words.weight") }.map(String.init) ?? ""
        XCTAssertNotNil(row.range(of: #"^0  /words/Gather  Gather \(embedding\)  words\.weight  \[20, 8\] +160 +0$"#, options: .regularExpression), row)
        let json = try HutchProcess.run(["inspect", model, "--json"])
        let layers = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])?["layers"] as? [[String: Any]])
        XCTAssertEqual(layers.map { $0["kind"] as? String }, ["embedding", nil, nil])
        XCTAssertEqual(layers.first?["macs_per_example"] as? Int, 0)
    }

    /// trace, plan and quantize with --packed: the table's codes are one scale per row, in the
    /// QDQ model (DequantizeLinear axis 0 feeding the Gather, the ids left alone) and the packed file.
    func testTracePlanQuantizeWritesTheTablePerRow() throws {
        let traced = try HutchProcess.run(["trace", "--model", model, "--data", data, "--out", path("s.json")])
        XCTAssertEqual(traced.status, 0, traced.stderr)
        let sensitivity = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path("s.json")))) as? [String: Any])
        let first = try XCTUnwrap((sensitivity["layers"] as? [[String: Any]])?.first)
        XCTAssertEqual(first["op"] as? String, "Gather")
        XCTAssertEqual(first["macs"] as? Int, 0)
        XCTAssertEqual(first["exact"] as? Bool, true)
        let planned = try HutchProcess.run(["plan", "--sensitivity", path("s.json"), "--avg-bits", "4", "--out", path("plan.json")])
        XCTAssertEqual(planned.status, 0, planned.stderr)
        let quantized = try HutchProcess.run(["quantize", "--model", model, "--plan", path("plan.json"), "--data", data,
                                              "--out", path("q.onnx"), "--packed", path("w.hutchq"), "--plan-out", path("annotated.json")])
        XCTAssertEqual(quantized.status, 0, quantized.stderr)
        XCTAssertTrue(quantized.stdout.contains("quantized 3 layers"), quantized.stdout)
        let proto = try ONNXModelProto(decoding: [UInt8](try Data(contentsOf: URL(fileURLWithPath: path("q.onnx")))))
        let nodes = try XCTUnwrap(proto.graph?.nodes)
        let dequantize = try XCTUnwrap(nodes.first { $0.opType == "DequantizeLinear" && $0.outputs == ["words.weight"] })
        XCTAssertEqual(dequantize.attribute("axis")?.i, 0)
        let gather = try XCTUnwrap(nodes.first { $0.opType == "Gather" })
        XCTAssertEqual(gather.inputs, ["words.weight", "input"], "the table dequantized, the ids as they were")
        XCTAssertFalse(nodes.contains { $0.opType == "QuantizeLinear" && $0.inputs.first == "input" })
        let packed = try PackedWeightFile.read(from: URL(fileURLWithPath: path("w.hutchq")))
        XCTAssertEqual(packed.first?.name, "words.weight")
        XCTAssertEqual(packed.first?.weight.axis, 0)
        XCTAssertEqual(packed.first?.weight.scales.count, 20, "one scale per row")
        let integer = try HutchProcess.run(["quantize", "--model", model, "--plan", path("plan.json"), "--data", data,
                                            "--out", path("q2.onnx"), "--integer-check", path("integer.json")])
        XCTAssertEqual(integer.status, 4, integer.stderr)
        XCTAssertTrue(integer.stderr.hasSuffix("hutch: error: integer check: node '/words/Gather' (Gather) is an embedding lookup (token ids, no quantized input), which the integer check does not run; leave out --integer-check\n"), integer.stderr)
    }

    /// HAWQ-V2 activations: the token ids have none, and a joint plan still chooses the other
    /// layers' activation widths (the table gets one, its BOPs are 0).
    func testJointPlanLeavesTheTokenIDsOut() throws {
        let traced = try HutchProcess.run(["trace", "--model", model, "--data", data, "--activations", "--out", path("s.json")])
        XCTAssertEqual(traced.status, 0, traced.stderr)
        let sensitivity = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path("s.json")))) as? [String: Any])
        let layers = try XCTUnwrap(sensitivity["layers"] as? [[String: Any]])
        XCTAssertEqual(layers.map { $0["activation"] != nil }, [false, true, true])
        let planned = try HutchProcess.run(["plan", "--sensitivity", path("s.json"), "--avg-bits", "4", "--act-bits", "4,8", "--out", path("plan.json")])
        XCTAssertEqual(planned.status, 0, planned.stderr)
        let plan = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path("plan.json")))) as? [String: Any])
        let first = try XCTUnwrap((plan["layers"] as? [[String: Any]])?.first)
        XCTAssertEqual(first["activation_bits"] as? Int, 8)
        XCTAssertEqual(first["activation_omega"] as? Double, 0)
        XCTAssertEqual(first["bops"] as? Double, 0)
    }
}
