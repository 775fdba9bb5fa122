import Foundation
import XCTest

/// report.html end to end: a small real `hutch run` writes run.json and report.html, `hutch report`
/// adds accuracy, and headless Chromium (Debian's `chromium`, installed by `make deps`) renders
/// the page: the DOM it builds has one bar per layer, the frontier, the chosen plan and the table.
final class ReportCommandTests: ProcessTestCase {

    /// Runs `executable ARGS` with output to files (children of `hutch run` may hold pipes open),
    /// killing it after `seconds`; returns status and stderr.
    private func runProcess(_ executable: URL, _ arguments: [String], seconds: Double, name: String) throws -> (Int32, String, String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = HutchProcess.repositoryRoot
        let out = directory.appendingPathComponent("\(name).out"), err = directory.appendingPathComponent("\(name).err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            XCTFail("\(name) did not finish within \(seconds) s")
        }
        return (process.terminationStatus, (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    /// Debian's chromium on PATH (nil when missing: the test then fails and says to run `make deps`).
    private func findChromium() -> URL? {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            for name in ["chromium", "chromium-browser"] {
                let url = URL(fileURLWithPath: String(directory)).appendingPathComponent(name)
                if FileManager.default.isExecutableFile(atPath: url.path) { return url }
            }
        }
        return nil
    }

    private func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    /// The part of `dom` from the element with `id` to the end of its svg/table.
    private func element(_ id: String, closing: String, in dom: String) -> String? {
        guard let start = dom.range(of: "id=\"\(id)\"") else { return nil }
        guard let end = dom.range(of: closing, range: start.upperBound ..< dom.endIndex) else { return nil }
        return String(dom[start.lowerBound ..< end.upperBound])
    }

    func testRunWritesRunRecordAndReportAndChromiumRendersEveryPart() throws {
        guard let browser = findChromium() else {
            XCTFail("chromium is not installed; run `make deps` (it installs Debian's chromium for this test)")
            return
        }
        let out = directory.appendingPathComponent("job")
        let (status, _, runErr) = try runProcess(HutchProcess.executable,
                                                 ["run", "--workers", "2", "--threads", "1", "--samples", "64", "--batch-size", "16",
                                                  "--avg-bits", "4", "--out", out.path], seconds: 180, name: "run")
        XCTAssertEqual(status, 0, runErr)
        // run.json: the two local workers, the phases of a job with a budget, every task counted
        let record = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("run.json"))) as? [String: Any])
        XCTAssertEqual(record["format"] as? String, "hutch.run")
        XCTAssertEqual((record["workers"] as? [String])?.sorted(), ["local-1", "local-2"])
        let phases = try XCTUnwrap(record["phases"] as? [[String: Any]])
        XCTAssertEqual(phases.compactMap { $0["name"] as? String }, ["setup", "sensitivity", "plan", "quantize", "outputs"])
        let tasks = try XCTUnwrap(record["tasks"] as? Int)
        XCTAssertEqual(phases.compactMap { $0["tasks"] as? Int }.reduce(0, +), tasks)
        XCTAssertGreaterThanOrEqual(phases.first { $0["name"] as? String == "quantize" }?["tasks"] as? Int ?? 0, 7, "one quantize task per layer")
        let wall = try XCTUnwrap(record["wall_seconds"] as? Double)
        XCTAssertEqual(phases.compactMap { $0["seconds"] as? Double }.reduce(0, +), wall, accuracy: 0.05)
        // the coordinator's peak memory: more than the model and data it holds, less than the machine
        let peak = try XCTUnwrap(record["coordinator_peak_resident_bytes"] as? Int)
        XCTAssertGreaterThan(peak, 10 << 20)
        XCTAssertLessThan(peak, Int(ProcessInfo.processInfo.physicalMemory))
        // each worker's peak, as it reported it on its RESULTs (null for one that did no task)
        let workerPeaks = try XCTUnwrap(record["worker_peak_resident_bytes"] as? [Any])
        XCTAssertEqual(workerPeaks.count, 2)
        for case let workerPeak as Int in workerPeaks {
            XCTAssertGreaterThan(workerPeak, 10 << 20)
            XCTAssertLessThan(workerPeak, Int(ProcessInfo.processInfo.physicalMemory))
        }
        XCTAssertFalse(workerPeaks.allSatisfy { $0 is NSNull }, "no worker reported its peak")
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("report.html").path), "the job writes report.html")

        // hutch report adds the accuracy table (the embedded example's data)
        let report = try HutchProcess.run(["report", out.path])
        XCTAssertEqual(report.status, 0, report.stderr)
        let sensitivity = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("sensitivity.json"))) as? [String: Any])
        let layers = try XCTUnwrap(sensitivity["layers"] as? [Any]).count
        XCTAssertEqual(layers, 7)

        let profile = directory.appendingPathComponent("chromium-profile")
        let (rendered, dom, chromiumErr) = try runProcess(browser, ["--headless", "--no-sandbox", "--disable-gpu",
                                                                    "--user-data-dir=\(profile.path)", "--dump-dom",
                                                                    out.appendingPathComponent("report.html").absoluteString],
                                                          seconds: 90, name: "chromium")
        XCTAssertEqual(rendered, 0, chromiumErr)
        // the elements are in the DOM Chromium built, inside the elements they belong to
        let chart = try XCTUnwrap(element("sensitivity-chart", closing: "</svg>", in: dom), "no #sensitivity-chart in the rendered DOM")
        XCTAssertEqual(count("class=\"layer-bar\"", in: chart), layers)
        let bits = try XCTUnwrap(element("bits-chart", closing: "</svg>", in: dom))
        XCTAssertEqual(count("class=\"bits-bar\"", in: bits), layers)
        let frontier = try XCTUnwrap(element("frontier-chart", closing: "</svg>", in: dom), "no #frontier-chart")
        XCTAssertEqual(count("class=\"uniform-point\"", in: frontier), 6, "one square per candidate width 2,3,4,5,6,8")
        XCTAssertGreaterThan(count("class=\"frontier-point\"", in: frontier), 6)
        XCTAssertEqual(count("id=\"chosen-plan\"", in: frontier), 1)
        let table = try XCTUnwrap(element("accuracy-table", closing: "</table>", in: dom), "no #accuracy-table")
        XCTAssertEqual(count("class=\"accuracy-row\"", in: table), 4, "float, uniform 8, uniform 4, plan")
        for name in ["float32", "uniform 8-bit", "uniform 4-bit", "plan"] { XCTAssertTrue(table.contains(">\(name)<"), name) }
        XCTAssertEqual(count("<script", in: dom), 0)
    }

    /// `hutch coordinator` without a budget: run.json names the command, the phases of a
    /// sensitivity-only job and the workers, whose names (chosen by whoever starts them) are
    /// escaped in report.html.
    func testCoordinatorRecordsItsWorkersAndTheReportEscapesTheirNames() throws {
        let out = directory.appendingPathComponent("job")
        let coordinator = try start(["coordinator", "--bind", "tcp://127.0.0.1:*", "--workers", "2", "--samples", "48",
                                     "--batch-size", "16", "--state", out.path], log: "coordinator")
        let connect = try XCTUnwrap(announcedEndpoint())
        let names = ["<b>w1</b>", "w2&co"]
        for (i, name) in names.enumerated() {
            _ = try start(["worker", "--connect", connect, "--name", name, "--threads", "1"], log: "worker\(i)")
        }
        XCTAssertEqual(wait(coordinator, 120, "the coordinator"), 0, stderr("coordinator"))

        let record = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("run.json"))) as? [String: Any])
        XCTAssertEqual(record["command"] as? String, "coordinator")
        XCTAssertEqual(record["workers_expected"] as? Int, 2)
        XCTAssertEqual((record["phases"] as? [[String: Any]])?.compactMap { $0["name"] as? String }, ["setup", "sensitivity", "outputs"])
        let joined = try XCTUnwrap(record["workers"] as? [String])
        XCTAssertTrue(Set(joined).isSubset(of: names) && !joined.isEmpty, "\(joined)")
        let html = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertFalse(html.contains("<b>w1"), "a worker name is text, not markup")
        if joined.contains(names[0]) { XCTAssertTrue(html.contains("&lt;b&gt;w1&lt;/b&gt;")) }
        if joined.contains(names[1]) { XCTAssertTrue(html.contains("w2&amp;co")) }
        XCTAssertFalse(html.contains("id=\"bits-chart\""), "no budget, no plan")
    }

    func testReportErrorsAreOneLineWithTheirExitCode() throws {
        let noDirectory = try HutchProcess.run(["report"])
        XCTAssertEqual(noDirectory.status, 2, noDirectory.stderr)
        XCTAssertTrue(noDirectory.stderr.contains("hutch report DIR"), noDirectory.stderr)

        let missing = try HutchProcess.run(["report", directory.appendingPathComponent("nowhere").path])
        XCTAssertEqual(missing.status, 3, missing.stderr)
        XCTAssertEqual(missing.stderr.split(separator: "\n").count, 1, missing.stderr)

        let empty = try HutchProcess.run(["report", directory.path])
        XCTAssertEqual(empty.status, 3, "no sensitivity.json: \(empty.stderr)")
        XCTAssertTrue(empty.stderr.contains("sensitivity.json"), empty.stderr)

        let sample = HutchProcess.repositoryRoot.appendingPathComponent("Tests/Fixtures/allocation/sample_sensitivity.json")
        try FileManager.default.copyItem(at: sample, to: directory.appendingPathComponent("sensitivity.json"))
        let built = try HutchProcess.run(["report", directory.path])
        XCTAssertEqual(built.status, 0, built.stderr)
        let html = try String(contentsOf: directory.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("id=\"sensitivity-chart\""))
        XCTAssertFalse(html.contains("id=\"accuracy-table\""), "no data, not the example: no accuracy table")

        try Data("{\"format\": \"hutch.run\", \"version\": 1}".utf8).write(to: directory.appendingPathComponent("run.json"))
        let corruptRun = try HutchProcess.run(["report", directory.path])
        XCTAssertEqual(corruptRun.status, 6, corruptRun.stderr)
        XCTAssertEqual(corruptRun.stderr.split(separator: "\n").count, 1, corruptRun.stderr)
        XCTAssertTrue(corruptRun.stderr.contains("run.json"), corruptRun.stderr)
        try FileManager.default.removeItem(at: directory.appendingPathComponent("run.json"))

        // a plan solved from another sensitivity file is refused
        let plan = directory.appendingPathComponent("plan.json")
        let planned = try HutchProcess.run(["plan", "--sensitivity", sample.path, "--avg-bits", "4", "--out", plan.path])
        XCTAssertEqual(planned.status, 0, planned.stderr)
        try Data((try String(contentsOf: sample, encoding: .utf8)).replacingOccurrences(of: "\"samples\"", with: "\"samples\" ").utf8)
            .write(to: directory.appendingPathComponent("sensitivity.json"))
        let mismatch = try HutchProcess.run(["report", directory.path])
        XCTAssertEqual(mismatch.status, 6, mismatch.stderr)
        XCTAssertTrue(mismatch.stderr.contains("re-run `hutch plan`"), mismatch.stderr)

        try Data("not json".utf8).write(to: directory.appendingPathComponent("sensitivity.json"))
        let corrupt = try HutchProcess.run(["report", directory.path])
        XCTAssertEqual(corrupt.status, 6, corrupt.stderr)
        XCTAssertEqual(corrupt.stderr.split(separator: "\n").count, 1, corrupt.stderr)
    }
}

/// `hutch report --data --model` on a model other than the example: the plan row is what
/// `hutch quantize --data` reports for the same plan, and the inputs are checked.
final class ReportEvaluationTests: XCTestCase {
    private var directory: URL!
    private let model = "Tests/Fixtures/resnet_small.onnx", data = "Tests/Fixtures/resnet_small_ref.npz"

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hutch-report-eval-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func testAccuracyTableMatchesHutchQuantizeAndChecksTheModel() throws {
        let sensitivity = directory.appendingPathComponent("sensitivity.json"), plan = directory.appendingPathComponent("plan.json")
        let traced = try HutchProcess.run(["trace", "--model", model, "--data", data, "--out", sensitivity.path])
        XCTAssertEqual(traced.status, 0, traced.stderr)
        let planned = try HutchProcess.run(["plan", "--sensitivity", sensitivity.path, "--avg-bits", "4", "--out", plan.path])
        XCTAssertEqual(planned.status, 0, planned.stderr)

        let noModel = try HutchProcess.run(["report", directory.path, "--data", data])
        XCTAssertEqual(noModel.status, 2, noModel.stderr)
        XCTAssertTrue(noModel.stderr.contains("--model"), noModel.stderr)
        let wrongModel = try HutchProcess.run(["report", directory.path, "--data", data, "--model", "Tests/Fixtures/mlp.onnx"])
        XCTAssertEqual(wrongModel.status, 6, wrongModel.stderr)
        XCTAssertEqual(wrongModel.stderr.split(separator: "\n").count, 1, wrongModel.stderr)

        let report = try HutchProcess.run(["report", directory.path, "--data", data, "--model", model])
        XCTAssertEqual(report.status, 0, report.stderr)
        let html = try String(contentsOf: directory.appendingPathComponent("report.html"), encoding: .utf8)
        let quantized = try HutchProcess.run(["quantize", "--model", model, "--plan", plan.path, "--data", data,
                                              "--out", directory.appendingPathComponent("q.onnx").path])
        XCTAssertEqual(quantized.status, 0, quantized.stderr)
        // "… float accuracy 62.50 % loss 0.91234, fake-quantized accuracy 50.00 % loss 1.01234"
        let words = quantized.stderr.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "," }).map(String.init)
        let accuracies = words.indices.filter { words[$0] == "accuracy" }.map { words[$0 + 1] + " %" }
        let losses = words.indices.filter { words[$0] == "loss" }.compactMap { Double(words[$0 + 1]) }
        XCTAssertEqual(accuracies.count, 2, quantized.stderr)
        XCTAssertEqual(losses.count, 2, quantized.stderr)
        let rows = html.components(separatedBy: "<tr class=\"accuracy-row\">").dropFirst().map { $0.components(separatedBy: "</tr>")[0] }
        XCTAssertEqual(rows.count, 4)
        // cells: name, bits, accuracy, loss, bytes, ratio
        let cells = rows.map { row in row.components(separatedBy: "<td").dropFirst().map { $0.drop { $0 != ">" }.dropFirst().components(separatedBy: "</td>")[0] } }
        guard cells.count == 4, losses.count == 2, accuracies.count == 2 else { return }
        XCTAssertEqual(cells[0][0], "float32")
        XCTAssertEqual(cells[3][0], "plan")
        XCTAssertEqual(cells[0][2], accuracies[0])
        XCTAssertEqual(cells[3][2], accuracies[1])
        XCTAssertEqual(try XCTUnwrap(Double(cells[0][3])), losses[0], accuracy: 1e-4)
        XCTAssertEqual(try XCTUnwrap(Double(cells[3][3])), losses[1], accuracy: 1e-4)
        XCTAssertNotEqual(cells[2][3], cells[0][3], "4-bit weights change the loss")
        XCTAssertTrue(html.contains("resnet_small_ref.npz"))
    }
}
