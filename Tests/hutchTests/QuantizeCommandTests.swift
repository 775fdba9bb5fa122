import Foundation
import HutchModel
import XCTest

/// `hutch quantize` end to end on the embedded example: outputs, and bad input refused with one
/// line, its exit code, and no output file left behind.
final class QuantizeCommandTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hutch-quantize-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// A uniform plan for the example made by `hutch plan` from the committed sensitivity file.
    func makePlan(bits: Int) throws -> String {
        let out = path("plan\(bits).json")
        let outcome = try HutchProcess.run(["plan", "--sensitivity", "Tests/Fixtures/export/digits_sensitivity.json",
                                            "--bits", "\(bits)", "--out", out])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        return out
    }

    func quantize(_ plan: String, _ extra: [String] = []) throws -> HutchProcess.Outcome {
        try HutchProcess.run(["quantize", "--model", "Examples/digits_resnet.onnx", "--plan", plan, "--out", path("q.onnx")] + extra)
    }

    private func editPlan(_ plan: String, _ edit: (inout [String: Any]) -> Void) throws -> String {
        var root = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: plan))) as? [String: Any])
        edit(&root)
        let out = path("edited.json")
        try JSONSerialization.data(withJSONObject: root).write(to: URL(fileURLWithPath: out))
        return out
    }

    private func assertRefused(_ outcome: HutchProcess.Outcome, status: Int32, _ text: String,
                               file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(outcome.status, status, outcome.stderr, file: file, line: line)
        XCTAssertEqual(outcome.stderr.split(separator: "\n").count, 1, outcome.stderr, file: file, line: line)
        XCTAssertTrue(outcome.stderr.contains(text), outcome.stderr, file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("q.onnx")), "nothing written", file: file, line: line)
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: directory.path))?.filter { $0.contains(".tmp-") } ?? []
        XCTAssertEqual(leftovers, [], file: file, line: line)
    }

    func testWritesQDQModelPackedWeightsAnnotatedPlanAndLogits() throws {
        let plan = try makePlan(bits: 4)
        let outcome = try quantize(plan, ["--data", "Examples/digits.npz", "--packed", path("w.hutchq"),
                                          "--plan-out", path("annotated.json"), "--logits", path("logits.npy")])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssertTrue(outcome.stdout.contains("quantized 7 layers"), outcome.stdout)
        XCTAssertTrue(outcome.stderr.contains("fake-quantized"), outcome.stderr)
        let onnx = try Data(contentsOf: URL(fileURLWithPath: path("q.onnx")))
        XCTAssertGreaterThan(onnx.count, 1000)
        let packed = try Data(contentsOf: URL(fileURLWithPath: path("w.hutchq")))
        XCTAssertEqual(Array(packed.prefix(7)), Array("HUTCHQW".utf8))
        let annotated = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path("annotated.json")))) as? [String: Any])
        let layers = try XCTUnwrap(annotated["layers"] as? [[String: Any]])
        XCTAssertEqual(layers.count, 7)
        for layer in layers {
            let requant = try XCTUnwrap(layer["requantization"] as? [[String: Any]])
            XCTAssertEqual(requant.count, (layer["weight_scales"] as? [Any])?.count)
            XCTAssertNotNil(requant.first?["numerator"])
            XCTAssertNotNil(layer["input_scale"])
        }
        XCTAssertEqual(annotated["format"] as? String, "hutch.plan")
        let npy = try Data(contentsOf: URL(fileURLWithPath: path("logits.npy")))
        XCTAssertEqual(npy.count, 128 + 450 * 10 * 4)
    }

    /// --external-data (automatic past protobuf's 2 GiB) puts the large initializers in
    /// q.onnx.data beside the model; the pair loads to the same graph as the single file.
    func testExternalDataWritesASideFileThatLoadsBackTheSameModel() throws {
        let plan = try makePlan(bits: 8)
        XCTAssertEqual(try quantize(plan, ["--weights-only"]).status, 0)
        let single = try Data(contentsOf: URL(fileURLWithPath: path("q.onnx")))
        try FileManager.default.moveItem(atPath: path("q.onnx"), toPath: path("single.onnx"))
        let outcome = try quantize(plan, ["--weights-only", "--external-data"])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let split = try Data(contentsOf: URL(fileURLWithPath: path("q.onnx")))
        let side = try Data(contentsOf: URL(fileURLWithPath: path("q.onnx.data")))
        XCTAssertLessThan(split.count, single.count / 2, "the weights left the model file")
        XCTAssertGreaterThan(side.count, single.count / 2)
        let a = try XCTUnwrap(ONNXLoader.decode(bytes: [UInt8](single), source: "single.onnx").graph)
        let external = try ONNXLoader.decode(bytes: [UInt8](split), source: path("q.onnx"))
        XCTAssertTrue(external.graph?.initializers.contains { $0.usesExternalData } ?? false)
        let b = try XCTUnwrap(ExternalDataFiles(modelPath: path("q.onnx")).inlined(external).graph)
        XCTAssertEqual(a.nodes.map(\.opType), b.nodes.map(\.opType))
        XCTAssertEqual(a.initializers.map(\.name), b.initializers.map(\.name))
        for (x, y) in zip(a.initializers, b.initializers) { XCTAssertEqual(x.inlineBytes, y.inlineBytes, x.name) }
    }

    func testWeightsOnlyNeedsNoData() throws {
        let outcome = try quantize(try makePlan(bits: 8), ["--weights-only"])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssertTrue(outcome.stdout.contains("float activations"), outcome.stdout)
    }

    /// `--integer-check`: the integer-only network on the example against the QDQ model.
    func testIntegerCheckWritesItsReport() throws {
        let outcome = try quantize(try makePlan(bits: 4), ["--data", "Examples/digits.npz", "--integer-check", path("integer.json")])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("integer check on 450 examples"), outcome.stderr)
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path("integer.json")))) as? [String: Any])
        XCTAssertEqual(report["format"] as? String, "hutch-integer-check/1")
        XCTAssertEqual(report["examples"] as? Int, 450)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(report["argmax_agreement"] as? Double), 0.995)
        XCTAssertEqual(report["unexplained"] as? Int, 0)
        XCTAssertNotNil(report["max_logit_difference_lsb"] as? Int)
        for key in ["integer_accuracy", "qdq_accuracy", "max_unrounded_gap_lsb"] { XCTAssertNotNil(report[key] as? Double, key) }
        XCTAssertEqual((report["points"] as? [Any])?.count, 7)
    }

    func testIntegerCheckNeedsQuantizedActivations() throws {
        assertRefused(try quantize(try makePlan(bits: 4), ["--weights-only", "--integer-check", path("integer.json")]),
                      status: 2, "--integer-check needs --data")
    }

    /// An op without an integer rule: one line naming the op and its node, exit 4, nothing written.
    func testIntegerCheckNamesAnOpItCannotRun() throws {
        let (model, data) = ("Tests/Fixtures/tanh_mlp.onnx", "Tests/Fixtures/tanh_mlp_ref.npz")
        let traced = try HutchProcess.run(["trace", "--model", model, "--data", data, "--out", path("s.json"), "--probes", "2"])
        XCTAssertEqual(traced.status, 0, traced.stderr)
        let planned = try HutchProcess.run(["plan", "--sensitivity", path("s.json"), "--bits", "8", "--out", path("p.json")])
        XCTAssertEqual(planned.status, 0, planned.stderr)
        let outcome = try HutchProcess.run(["quantize", "--model", model, "--plan", path("p.json"), "--data", data,
                                            "--out", path("q.onnx"), "--integer-check", path("integer.json")])
        XCTAssertEqual(outcome.status, 4, outcome.stderr)
        let errors = outcome.stderr.split(separator: "\n").filter { $0.hasPrefix("hutch: error:") }
        XCTAssertEqual(errors.count, 1, outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("node '/Tanh' (Tanh) has no integer rule"), outcome.stderr)
        for file in ["q.onnx", "integer.json"] { XCTAssertFalse(FileManager.default.fileExists(atPath: path(file)), file) }
    }

    func testActivationQuantizationWithoutDataIsAUsageError() throws {
        assertRefused(try quantize(try makePlan(bits: 4)), status: 2, "activation ranges need calibration data")
    }

    func testPlanForAnotherModelIsRefused() throws {
        let plan = try editPlan(try makePlan(bits: 4)) {
            $0["model_digest"] = "sha256:" + String(repeating: "ab", count: 32)
        }
        assertRefused(try quantize(plan, ["--weights-only"]), status: 6, "the plan was made for model sha256:abab")
    }

    func testMissingLayerIsRefused() throws {
        let plan = try editPlan(try makePlan(bits: 4)) { root in
            var layers = root["layers"] as? [[String: Any]] ?? []
            layers.remove(at: 2)
            root["layers"] = layers
        }
        assertRefused(try quantize(plan, ["--weights-only"]), status: 6, "no width for layers /block1/c2/conv/Conv")
    }

    func testWidthOutsideOneToSixteenIsRefused() throws {
        for bits in [0, 17] {
            let plan = try editPlan(try makePlan(bits: 4)) { root in
                var layers = root["layers"] as? [[String: Any]] ?? []
                layers[1]["weight_bits"] = bits
                root["layers"] = layers
            }
            assertRefused(try quantize(plan, ["--weights-only"]), status: 6, "weight_bits \(bits), outside 1...16")
        }
    }

    func testCorruptPlanIsRefused() throws {
        let plan = path("broken.json")
        try Data("{\"format\": \"hutch.plan\"".utf8).write(to: URL(fileURLWithPath: plan))
        assertRefused(try quantize(plan, ["--weights-only"]), status: 6, "not a valid plan.json")
    }
}

extension QuantizeCommandTests {
    func testAnUnwritableSecondOutputLeavesNoFirstOutput() throws {
        let outcome = try quantize(try makePlan(bits: 4), ["--weights-only", "--packed", path("missing-dir/w.hutchq")])
        XCTAssertEqual(outcome.status, 3, outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("missing-dir/w.hutchq"), outcome.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("q.onnx")))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.contains(".tmp-") }
        XCTAssertEqual(leftovers, [])
    }
}
