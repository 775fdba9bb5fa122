import Foundation
import XCTest

/// `hutch plan --act-bits` end to end on the example's activation sensitivities, its one-line
/// errors, and `hutch run --act-bits`, which refuses several widths without --activations before starting workers.
final class JointPlanCommandTests: XCTestCase {
    private var directory: URL!
    private let sensitivity = "Tests/Fixtures/export/digits_activation_sensitivity.json"

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hutch-joint-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func testJointPlanGivesEachLayerItsActivationWidthWithinTheBOPsBudget() throws {
        let plan = directory.appendingPathComponent("plan.json")
        let outcome = try HutchProcess.run(["plan", "--sensitivity", sensitivity, "--act-bits", "4,8", "--bops-g", "0.01",
                                            "--pin", "last=w8a8", "--out", plan.path])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let document = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: plan)) as? [String: Any])
        XCTAssertEqual(document["activation_candidate_bits"] as? [Int], [4, 8])
        let layers = try XCTUnwrap(document["layers"] as? [[String: Any]])
        let activations = layers.map { $0["activation_bits"] as! Int }
        XCTAssertEqual(Set(activations), [4, 8], "a BOPs budget this tight lowers some activations")
        XCTAssertEqual(activations[6], 8)
        XCTAssertEqual(activations[3], activations[4], "the block-2 shortcut and first conv read one tensor")
        let bops = layers.map { $0["bops"] as! Double }.reduce(0, +)
        XCTAssertLessThanOrEqual(bops, 0.01e9)
        XCTAssertEqual(((document["solver"] as? [String: Any])?["proven_optimal"]) as? Bool, true)
    }

    func testErrorsAreOneLineWithTheirExitCodes() throws {
        let plan = directory.appendingPathComponent("plan.json").path
        let cases: [([String], Int32, String)] = [
            (["plan", "--sensitivity", "Tests/Fixtures/export/digits_sensitivity.json", "--act-bits", "4,8", "--out", plan], 6,
             "has no activation sensitivity, which --act-bits with several widths needs; run hutch trace --activations"),
            (["plan", "--sensitivity", sensitivity, "--act-bits", "4,8", "--activation-bits", "8", "--out", plan], 2, "give --act-bits or --activation-bits, not both"),
            (["plan", "--sensitivity", sensitivity, "--act-bits", "4,x", "--out", plan], 2, "--act-bits: 'x' is not a bit width"),
            (["plan", "--sensitivity", sensitivity, "--act-bits", "4,8", "--pin", "first=q4", "--out", plan], 2, "give B, wBaA or aA"),
            (["run", "--act-bits", "4,8", "--avg-bits", "4", "--workers", "1", "--out", directory.appendingPathComponent("run").path], 2,
             "--act-bits with several widths needs activation sensitivities: add --activations"),
            (["run", "--act-bits", "4,8", "--workers", "1", "--out", directory.appendingPathComponent("run2").path], 2,
             "--act-bits with several widths needs activation sensitivities"),
        ]
        for (arguments, status, message) in cases {
            let outcome = try HutchProcess.run(arguments)
            XCTAssertEqual(outcome.status, status, "\(arguments): \(outcome.stderr)")
            XCTAssertTrue(outcome.stderr.contains(message), "\(arguments): \(outcome.stderr)")
            XCTAssertEqual(outcome.stderr.split(separator: "\n").count, 1, outcome.stderr)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: plan))
    }
}
