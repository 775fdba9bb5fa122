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
}
