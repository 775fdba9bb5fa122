import Foundation
import XCTest

/// `hutch plan` end to end: files in, plan out, errors as exit codes.
final class PlanCommandTests: XCTestCase {
    private var directory: URL!
    private let sample = "Tests/Fixtures/allocation/sample_sensitivity.json"

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hutch-plan-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func json(_ url: URL) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] ?? [:]
    }

    func testPlanMeetsAnAverageBitsBudgetAndWritesFrontierAndSVG() throws {
        let plan = directory.appendingPathComponent("plan.json")
        let svg = directory.appendingPathComponent("frontier.svg")
        let outcome = try HutchProcess.run(["plan", "--sensitivity", sample, "--avg-bits", "4",
                                            "--out", plan.path, "--svg", svg.path])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let document = try json(plan)
        let totals = try XCTUnwrap(document["totals"] as? [String: Any])
        let averageBits = try XCTUnwrap(totals["average_bits"] as? Double)
        XCTAssertLessThanOrEqual(averageBits, 4 + 1e-9)
        let solver = try XCTUnwrap(document["solver"] as? [String: Any])
        XCTAssertEqual(solver["proven_optimal"] as? Bool, true)
        let text = try String(contentsOf: svg, encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("<svg") || text.hasPrefix("<?xml"))
    }

    func testBudgetBelowTheLowestAssignmentIsInfeasibleWithExitCode7() throws {
        let plan = directory.appendingPathComponent("plan.json")
        let outcome = try HutchProcess.run(["plan", "--sensitivity", sample, "--avg-bits", "0.5", "--out", plan.path])
        XCTAssertEqual(outcome.status, 7, outcome.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: plan.path), "no plan is written for an infeasible budget")
        // one line, in the unit the budget was given in: --avg-bits → average bits, not MB
        XCTAssertEqual(outcome.stderr.split(separator: "\n").count, 1, outcome.stderr)
        XCTAssertTrue(outcome.stderr.hasPrefix("hutch: error: no bit allocation fits the budgets: average weight width ≤ 0.5 bits "
                                               + "(smallest feasible alone 2 bits)"), outcome.stderr)
        XCTAssertFalse(outcome.stderr.contains("MB"), outcome.stderr)

        // with a second budget, the value under the others is in average bits too; --size-mb stays in MB
        let both = try HutchProcess.run(["plan", "--sensitivity", sample, "--avg-bits", "2.5", "--bops-g", "0.000001", "--out", plan.path])
        XCTAssertEqual(both.status, 7, both.stderr)
        XCTAssertNotNil(both.stderr.range(of: #"average weight width ≤ 2\.5 bits \(smallest feasible alone 2 bits, (with the other budgets [0-9.]+ bits|the other budgets alone are infeasible)\)"#,
                                          options: .regularExpression), both.stderr)
        let megabytes = try HutchProcess.run(["plan", "--sensitivity", sample, "--size-mb", "0.000001", "--out", plan.path])
        XCTAssertEqual(megabytes.status, 7, megabytes.stderr)
        XCTAssertTrue(megabytes.stderr.contains("size ≤ 1e-06 MB (smallest feasible alone 0.035952 MB)"), megabytes.stderr)
    }

    func testCorruptSensitivityFileIsExitCode6() throws {
        let broken = directory.appendingPathComponent("broken.json")
        try Data("{\"format\": \"hutch.sensitivity\", \"version\": 1}".utf8).write(to: broken)
        let outcome = try HutchProcess.run(["plan", "--sensitivity", broken.path, "--avg-bits", "4",
                                            "--out", directory.appendingPathComponent("p.json").path])
        XCTAssertEqual(outcome.status, 6, outcome.stderr)
        XCTAssertEqual(outcome.stderr.split(separator: "\n").count, 1, outcome.stderr)
    }

    func testMissingSensitivityFileIsExitCode3() throws {
        let outcome = try HutchProcess.run(["plan", "--sensitivity", "nowhere.json", "--avg-bits", "4",
                                            "--out", directory.appendingPathComponent("p.json").path])
        XCTAssertEqual(outcome.status, 3, outcome.stderr)
    }

    func testModelFlagComputesTheSameQuantizationErrorsAsTrace() throws {
        let withErrors = directory.appendingPathComponent("with.json"), without = directory.appendingPathComponent("without.json")
        for (out, bits) in [(withErrors, "2,3,4,5,6,8"), (without, "none")] {
            let outcome = try HutchProcess.run(["trace", "--samples", "32", "--bits", bits, "--out", out.path])
            XCTAssertEqual(outcome.status, 0, outcome.stderr)
        }
        let fromTrace = directory.appendingPathComponent("a.json"), fromModel = directory.appendingPathComponent("b.json")
        let noErrors = try HutchProcess.run(["plan", "--sensitivity", without.path, "--avg-bits", "4", "--out", fromModel.path])
        XCTAssertEqual(noErrors.status, 6, "hawq-v3 needs quantization errors: \(noErrors.stderr)")
        XCTAssertEqual(try HutchProcess.run(["plan", "--sensitivity", withErrors.path, "--avg-bits", "4",
                                             "--out", fromTrace.path]).status, 0)
        let outcome = try HutchProcess.run(["plan", "--sensitivity", without.path, "--model", "Examples/digits_resnet.onnx",
                                            "--avg-bits", "4", "--out", fromModel.path])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let a = try json(fromTrace), b = try json(fromModel)
        let bitsA = (a["layers"] as? [[String: Any]])?.map { $0["weight_bits"] as? Int }
        let bitsB = (b["layers"] as? [[String: Any]])?.map { $0["weight_bits"] as? Int }
        XCTAssertEqual(bitsA, bitsB)
        let omegaA = try XCTUnwrap((a["totals"] as? [String: Any])?["omega"] as? Double)
        let omegaB = try XCTUnwrap((b["totals"] as? [String: Any])?["omega"] as? Double)
        XCTAssertEqual(omegaA, omegaB, accuracy: 1e-12 * omegaA)

        let wrongModel = try HutchProcess.run(["plan", "--sensitivity", without.path, "--model", "Tests/Fixtures/mlp.onnx",
                                               "--avg-bits", "4", "--out", fromModel.path])
        XCTAssertEqual(wrongModel.status, 6, wrongModel.stderr)
        XCTAssertTrue(wrongModel.stderr.contains("measured on model"), wrongModel.stderr)
    }
}
