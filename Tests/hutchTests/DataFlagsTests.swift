import Foundation
import HutchModel
import XCTest

/// Every command that takes data takes it the same way: `--data D.npz`, or `--inputs X.npy
/// --labels Y.npy` with the same arrays, for the same result.
final class DataFlagsTests: XCTestCase {
    var directory: URL!
    let model = "Examples/digits_resnet.onnx", npz = "Examples/digits.npz"
    var inputs: String { path("x.npy") }
    var labels: String { path("y.npy") }

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hutch-data-flags-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // the example's arrays as two .npy files
        let arrays = try NumPyArchive.readNPZ(contentsOf: HutchProcess.repositoryRoot.appendingPathComponent(npz))
        try NumPyArchive.writeNPY(try XCTUnwrap(arrays["x"]), to: URL(fileURLWithPath: inputs))
        try NumPyArchive.writeNPY(try XCTUnwrap(arrays["y"]), to: URL(fileURLWithPath: labels))
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func read(_ name: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path(name))) }

    /// A 4-bit plan for the example, from the committed sensitivity file.
    func makePlan() throws -> String {
        let plan = path("plan.json")
        let outcome = try HutchProcess.run(["plan", "--sensitivity", "Tests/Fixtures/export/digits_sensitivity.json",
                                            "--avg-bits", "4", "--out", plan])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        return plan
    }

    func testQuantizeOnNpyFilesWritesWhatItWritesOnTheNpz() throws {
        let plan = try makePlan()
        func quantize(_ data: [String], _ tag: String) throws -> HutchProcess.Outcome {
            try HutchProcess.run(["quantize", "--model", model, "--plan", plan, "--out", path("\(tag).onnx"),
                                  "--plan-out", path("\(tag).json"), "--logits", path("\(tag).npy")] + data)
        }
        let fromNPZ = try quantize(["--data", npz], "npz")
        let fromNPY = try quantize(["--inputs", inputs, "--labels", labels], "npy")
        XCTAssertEqual(fromNPZ.status, 0, fromNPZ.stderr)
        XCTAssertEqual(fromNPY.status, 0, fromNPY.stderr)
        XCTAssertEqual(try read("npy.onnx"), try read("npz.onnx"), "calibrated on the same arrays")
        XCTAssertEqual(try read("npy.json"), try read("npz.json"))
        XCTAssertEqual(try read("npy.npy"), try read("npz.npy"))
        // the accuracy line names the data as given
        XCTAssertTrue(fromNPY.stderr.contains("examples of \(inputs) + \(labels): float accuracy"), fromNPY.stderr)
        XCTAssertEqual(fromNPY.stderr.replacingOccurrences(of: "\(inputs) + \(labels)", with: npz), fromNPZ.stderr)
        XCTAssertEqual(fromNPY.stdout.replacingOccurrences(of: path("npy.onnx"), with: path("npz.onnx")), fromNPZ.stdout)
    }

    func testReportOnNpyFilesMeasuresWhatItMeasuresOnTheNpz() throws {
        _ = try makePlan()
        try FileManager.default.copyItem(at: HutchProcess.repositoryRoot.appendingPathComponent("Tests/Fixtures/export/digits_sensitivity.json"),
                                         to: directory.appendingPathComponent("sensitivity.json"))
        let fromNPZ = try HutchProcess.run(["report", directory.path, "--data", npz, "--model", model, "--out", path("npz.html")])
        let fromNPY = try HutchProcess.run(["report", directory.path, "--inputs", inputs, "--labels", labels, "--model", model,
                                            "--out", path("npy.html")])
        XCTAssertEqual(fromNPZ.status, 0, fromNPZ.stderr)
        XCTAssertEqual(fromNPY.status, 0, fromNPY.stderr)
        let npzHTML = String(decoding: try read("npz.html"), as: UTF8.self)
        let npyHTML = String(decoding: try read("npy.html"), as: UTF8.self)
        XCTAssertTrue(npyHTML.contains("accuracy-row"), "the report has the accuracy table")
        XCTAssertTrue(npyHTML.contains("x.npy + "), "and names the data as given")
        XCTAssertEqual(npyHTML.replacingOccurrences(of: "\(inputs) + \(labels)", with: npz), npzHTML)
    }

    func testQuantizeAndReportCheckTheDataFlagsAsTraceDoes() throws {
        let plan = try makePlan()
        let commands: [[String]] = [
            ["quantize", "--model", model, "--plan", plan, "--out", path("q.onnx")],
            ["report", directory.path, "--model", model],
            ["trace", "--model", model, "--out", path("s.json")],
        ]
        for command in commands {
            let half = try HutchProcess.run(command + ["--inputs", inputs])
            XCTAssertEqual(half.status, 2, half.stderr)
            XCTAssertTrue(half.stderr.contains("--inputs and --labels go together"), half.stderr)
            let both = try HutchProcess.run(command + ["--data", npz, "--inputs", inputs, "--labels", labels])
            XCTAssertEqual(both.status, 2, both.stderr)
            XCTAssertTrue(both.stderr.contains("give either --data D.npz or --inputs X.npy --labels Y.npy, not both"), both.stderr)
        }
        let noEval = try HutchProcess.run(["report", directory.path, "--no-eval", "--inputs", inputs, "--labels", labels])
        XCTAssertEqual(noEval.status, 2, noEval.stderr)
        XCTAssertTrue(noEval.stderr.contains("--no-eval cannot be combined"), noEval.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("q.onnx")))
    }

    func testHelpOfEveryCommandThatTakesDataListsTheSameDataFlags() throws {
        for command in ["trace", "quantize", "report", "run", "coordinator"] {
            let help = try HutchProcess.run([command, "--help"])
            XCTAssertEqual(help.status, 0, help.stderr)
            for flag in ["--data PATH", "--inputs PATH", "--labels PATH"] {
                XCTAssertTrue(help.stdout.contains(flag), "\(command) --help lacks \(flag)")
            }
            if command == "quantize" || command == "report" {
                XCTAssertTrue(help.stdout.contains("[--data D.npz | --inputs X.npy --labels Y.npy"), "\(command)'s usage line shows both forms")
            }
        }
    }
}
