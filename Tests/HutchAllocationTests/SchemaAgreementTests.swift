import Foundation
import XCTest
@testable import HutchAllocation

/// The encoders and the committed schemas agree: every key written is declared (where the
/// schema closes an object), every required key is written, and enum/const values match.
final class SchemaAgreementTests: XCTestCase {
    private func schema(_ name: String) throws -> [String: Any] {
        let url = fixturesDirectory().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Protocols/\(name)")
        return try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }

    /// Checks `value` against the subset of keywords the schemas use for structure.
    private func conform(_ value: Any, _ node: [String: Any], root: [String: Any], path: String) {
        var node = node
        if let ref = node["$ref"] as? String {
            var target: Any = root
            for part in ref.dropFirst(2).split(separator: "/") { target = (target as! [String: Any])[String(part)]! }
            node = target as! [String: Any]
        }
        if let constant = node["const"] {
            XCTAssertEqual("\(constant)", "\(value)", "\(path): const")
        }
        if let options = node["enum"] as? [Any], !(value is NSNull) {
            XCTAssertTrue(options.contains { "\($0)" == "\(value)" }, "\(path): \(value) not in enum")
        }
        if let object = value as? [String: Any] {
            let properties = node["properties"] as? [String: Any] ?? [:]
            for key in node["required"] as? [String] ?? [] {
                XCTAssertNotNil(object[key], "\(path): required '\(key)' not written")
            }
            for (key, item) in object {
                if let sub = properties[key] as? [String: Any] {
                    conform(item, sub, root: root, path: "\(path).\(key)")
                } else if (node["additionalProperties"] as? Bool) == false {
                    XCTFail("\(path): '\(key)' is written but not in the schema")
                }
            }
        }
        if let array = value as? [Any], let items = node["items"] as? [String: Any] {
            for (i, item) in array.enumerated() { conform(item, items, root: root, path: "\(path)[\(i)]") }
        }
    }

    func testPlanMatchesPlanSchema() throws {
        let report = try SensitivityReport.decode(Data(contentsOf: fixturesDirectory().appendingPathComponent("sample_sensitivity.json")))
        let table = try LatencyTable.parse(Data(contentsOf: fixturesDirectory().appendingPathComponent("sample_latency.csv")), source: "lat")
        for (solver, budgets) in [(SolverKind.exact, [BudgetSpec.sizeFraction(0.5), .gigaBOPs(0.1), .latencyMilliseconds(3)]),
                                  (.greedy, [.averageBits(4)]), (.exact, [])] {
            let problem = try AllocationProblem(report: report, request: AllocationRequest(budgets: budgets, pins: [Pin(layer: .first)], latencyTable: table))
            let allocation = try problem.solve(solver)
            let plan = Plan(problem: problem, allocation: allocation, sensitivityDigest: "sha256:" + String(repeating: "1", count: 64),
                            modelDigest: report.job.modelDigest)
            let json = try JSONSerialization.jsonObject(with: plan.encoded())
            let root = try schema("plan.schema.json")
            conform(json, root, root: root, path: "plan(\(solver), \(budgets.count) budgets)")
        }
    }

    func testJointPlanMatchesPlanSchema() throws {
        let url = fixturesDirectory().appendingPathComponent("joint_milp_instances.json")
        let instances = (try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any])["instances"] as! [[String: Any]]
        let report = try SensitivityReport.decode(try JSONSerialization.data(withJSONObject: instances[0]["sensitivity"]!))
        let budget = ((instances[0]["request"] as! [String: Any])["budgets"] as! [[String: Any]])[0]["value"] as! Double
        var request = AllocationRequest(budgets: [.gigaBOPs(budget)], pins: [Pin(layer: .first)])
        request.activationCandidates = [4, 8]
        let problem = try AllocationProblem(report: report, request: request)
        let plan = Plan(problem: problem, allocation: try problem.solve(.exact), sensitivityDigest: "sha256:" + String(repeating: "1", count: 64),
                        modelDigest: report.job.modelDigest)
        let json = try JSONSerialization.jsonObject(with: plan.encoded()) as! [String: Any]
        XCTAssertEqual(json["activation_candidate_bits"] as? [Int], [4, 8])
        XCTAssertNotNil((json["layers"] as! [[String: Any]])[0]["activation_shared_with"])
        let root = try schema("plan.schema.json")
        conform(json, root, root: root, path: "joint plan")
    }

    func testSensitivityEncodingMatchesSensitivitySchema() throws {
        let report = try SensitivityReport.decode(Data(contentsOf: fixturesDirectory().appendingPathComponent("sample_sensitivity.json")))
        let root = try schema("sensitivity.schema.json")
        conform(try JSONSerialization.jsonObject(with: report.encoded()), root, root: root, path: "sensitivity")
    }
}
