import XCTest
import Foundation

/// The command-line contract: help, usage errors and their exit codes.
final class CommandLineTests: XCTestCase {
    func testTopLevelHelpListsCommandsAndExitCodes() throws {
        let outcome = try HutchProcess.run(["--help"])
        XCTAssertEqual(outcome.status, 0)
        XCTAssertTrue(outcome.stdout.contains("commands:"))
        XCTAssertTrue(outcome.stdout.contains("exit codes:"))
    }

    func testNoArgumentsIsAUsageError() throws {
        let outcome = try HutchProcess.run([])
        XCTAssertEqual(outcome.status, 2)
    }

    func testUnknownCommandIsAUsageErrorOnOneLine() throws {
        let outcome = try HutchProcess.run(["frobnicate"])
        XCTAssertEqual(outcome.status, 2)
        XCTAssertEqual(outcome.stderr.split(separator: "\n").count, 1)
        XCTAssertTrue(outcome.stderr.contains("unknown command 'frobnicate'"))
    }

    func testUnknownFlagIsAUsageError() throws {
        let outcome = try HutchProcess.run(["version", "--bogus"])
        XCTAssertEqual(outcome.status, 2)
        XCTAssertTrue(outcome.stderr.contains("--bogus"))
    }

    func testEndpointsMustBeTCP() throws {
        for arguments in [["worker", "--connect", "udp://127.0.0.1:5555"], ["status", "--connect", "127.0.0.1:5555"],
                          ["coordinator", "--bind", "ipc:///tmp/x", "--state", "/tmp/hutch-unused"]] {
            let outcome = try HutchProcess.run(arguments)
            XCTAssertEqual(outcome.status, 2, "\(arguments): \(outcome.stderr)")
            XCTAssertTrue(outcome.stderr.contains("must be tcp://HOST:PORT"), outcome.stderr)
        }
    }

    func testEveryCommandHasHelp() throws {
        let top = try HutchProcess.run(["--help"]).stdout
        let names = top.components(separatedBy: "commands:\n").last?
            .split(separator: "\n").prefix { $0.hasPrefix("  ") }
            .compactMap { $0.split(separator: " ").first.map(String.init) } ?? []
        XCTAssertFalse(names.isEmpty)
        for name in names {
            let outcome = try HutchProcess.run([name, "--help"])
            XCTAssertEqual(outcome.status, 0, name)
            XCTAssertTrue(outcome.stdout.contains("usage: hutch \(name)"), name)
        }
    }
}

/// `hutch inspect` on committed models: what users see first.
final class InspectCommandTests: XCTestCase {
    func testInspectListsTheExampleLayersWithMACs() throws {
        let outcome = try HutchProcess.run(["inspect", "Examples/digits_resnet.onnx", "--json"])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any]
        let layers = json?["layers"] as? [[String: Any]] ?? []
        XCTAssertEqual(layers.count, 7)
        // The stem conv: 16 output channels over 8x8 (pad 1), each reducing 1*3*3 inputs.
        XCTAssertEqual(layers.first?["macs_per_example"] as? Int, 16 * 8 * 8 * 9)
    }

    /// A model with two inputs: the packed input, and the inputs it packs in name order.
    func testInspectListsTheInputsAPackedInputHolds() throws {
        let text = try HutchProcess.run(["inspect", "Tests/Fixtures/tiny_bert_mask.onnx"])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("input:    hutch:packed_inputs [N, 12]"), text.stdout)
        XCTAssertTrue(text.stdout.contains("packs:    attention_mask [N, 6], input_ids [N, 6]"), text.stdout)
        let outcome = try HutchProcess.run(["inspect", "Tests/Fixtures/tiny_bert_mask.onnx", "--json"])
        let json = try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any]
        let inputs = json?["inputs"] as? [[String: Any]] ?? []
        XCTAssertEqual(inputs.map { $0["name"] as? String }, ["attention_mask", "input_ids"])
        // one input: no "inputs" key, as before
        let single = try HutchProcess.run(["inspect", "Examples/digits_resnet.onnx", "--json"])
        XCTAssertFalse(single.stdout.contains("\"inputs\""), single.stdout)
    }

    func testMissingModelFileIsAnIOError() throws {
        let outcome = try HutchProcess.run(["inspect", "--model", "no/such/model.onnx"])
        XCTAssertEqual(outcome.status, 3)
        XCTAssertTrue(outcome.stderr.contains("no/such/model.onnx"))
    }

    func testCorruptModelIsAnInvalidModelError() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hutch-cli-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let original = try Data(contentsOf: HutchProcess.repositoryRoot.appendingPathComponent("Examples/digits_resnet.onnx"))
        let truncated = directory.appendingPathComponent("truncated.onnx")
        try original.prefix(original.count / 2).write(to: truncated)
        let outcome = try HutchProcess.run(["inspect", truncated.path])
        XCTAssertEqual(outcome.status, 4)
        XCTAssertEqual(outcome.stderr.split(separator: "\n").count, 1, outcome.stderr)
    }

    func testUnsupportedOpsAreAllNamedAtOnce() throws {
        let outcome = try HutchProcess.run(["inspect", "Tests/Fixtures/unsupported_ops.onnx"])
        XCTAssertEqual(outcome.status, 4)
        XCTAssertTrue(outcome.stderr.contains("CumSum") && outcome.stderr.contains("TopK"), outcome.stderr)
    }

    /// onnx.save_model(..., save_as_external_data=True) of the MLP: read like the embedded one.
    func testExternalDataSavedByTheOnnxPackageReadsLikeTheEmbeddedModel() throws {
        let external = try HutchProcess.run(["inspect", "Tests/Fixtures/external_data.onnx", "--json"])
        let embedded = try HutchProcess.run(["inspect", "Tests/Fixtures/mlp.onnx", "--json"])
        XCTAssertEqual(external.status, 0, external.stderr)
        // the layers array, re-encoded with sorted keys (the digest differs: the files differ)
        func layers(_ json: String) throws -> String {
            let root = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            let list = try XCTUnwrap(root["layers"] as? [Any])
            XCTAssertEqual(list.count, 3, "the MLP's three Linear layers")
            return String(decoding: try JSONSerialization.data(withJSONObject: list, options: [.sortedKeys]), as: UTF8.self)
        }
        XCTAssertEqual(try layers(external.stdout), try layers(embedded.stdout))
    }
}
