import Foundation
import XCTest
@testable import HutchAllocation

/// The exact solver against an independent MILP (HiGHS through scipy.optimize.milp), on the
/// committed instances of Tests/Fixtures/allocation/make_milp_fixtures.py.
final class MILPFixtureTests: XCTestCase {
    func testExactSolverMatchesHiGHSOnEveryFixture() throws {
        let instances = try loadInstances()
        XCTAssertGreaterThanOrEqual(instances.count, 8)
        var optimal = 0, infeasible = 0
        for instance in instances {
            let name = instance["name"] as! String
            let report = try SensitivityReport.decode(try JSONSerialization.data(withJSONObject: instance["sensitivity"]!), source: name)
            let request = try makeRequest(instance["request"] as! [String: Any])
            let problem = try AllocationProblem(report: report, request: request)
            let expected = instance["expected"] as! [String: Any]
            if expected["status"] as! String == "infeasible" {
                infeasible += 1
                XCTAssertThrowsError(try problem.solve(.exact), name) { error in
                    guard case AllocationError.infeasible(let detail) = error else { return XCTFail("\(name): \(error)") }
                    let minimum = expected["minimum_alone"] as! [String: Double]
                    for entry in detail.entries {
                        XCTAssertEqual(entry.minimumAlone, minimum[entry.budget.kind.rawValue]!, accuracy: 1e-9 * entry.minimumAlone, name)
                    }
                }
                continue
            }
            optimal += 1
            try assertExactMatchesMILP(problem, expected, name)
        }
        XCTAssertGreaterThanOrEqual(optimal, 7)
        XCTAssertGreaterThanOrEqual(infeasible, 1)
    }

    private func loadInstances() throws -> [[String: Any]] {
        let url = fixturesDirectory().appendingPathComponent("milp_instances.json")
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        return root["instances"] as! [[String: Any]]
    }

    private func makeRequest(_ json: [String: Any]) throws -> AllocationRequest {
        var request = AllocationRequest()
        request.bits = json["bits"] as! [Int]
        request.objective = Objective(rawValue: json["objective"] as! String)!
        request.activationBits = json["activation_bits"] as! Int
        request.budgets = (json["budgets"] as! [[String: Any]]).map { budget in
            let value = budget["value"] as! Double
            switch budget["kind"] as! String {
            case "size_mb": return .sizeMegabytes(value)
            case "avg_bits": return .averageBits(value)
            case "size_frac": return .sizeFraction(value)
            case "bops_g": return .gigaBOPs(value)
            default: return .latencyMilliseconds(value)
            }
        }
        request.pins = (json["pins"] as! [[Any]]).map { Pin(layer: LayerSelector($0[0] as! String), bits: $0[1] as? Int) }
        let ties = json["ties"] as! [String: Any]
        request.ties = TieSpec(auto: ties["auto"] as! Bool,
                               groups: (ties["groups"] as! [[String]]).map { $0.map(LayerSelector.init) })
        var entries: [String: [Int: Double]] = [:]
        for row in json["latency_table"] as! [[Any]] {
            entries[row[0] as! String, default: [:]][row[1] as! Int] = row[2] as? Double ?? Double(row[2] as! Int)
        }
        request.latencyTable = LatencyTable(entries: entries)
        return request
    }
}

/// The exact solver's optimum is proven, equals the MILP's Ω, and fits the budgets, whose limits
/// agree with the MILP's; the MILP's own assignment has that Ω in Hutch's problem; the greedy
/// solver is no better and its bound no higher. Returns the exact allocation.
@discardableResult
func assertExactMatchesMILP(_ problem: AllocationProblem, _ expected: [String: Any], _ name: String,
                            file: StaticString = #filePath, line: UInt = #line) throws -> Allocation {
    let omega = expected["omega"] as! Double
    let limits = expected["limits"] as! [String: Double]
    for budget in problem.budgets {
        XCTAssertEqual(budget.limit, limits[budget.kind.rawValue]!, accuracy: 1e-9 * budget.limit, "\(name) \(budget.kind)", file: file, line: line)
    }
    let exact = try problem.solve(.exact)
    XCTAssertTrue(exact.provenOptimal, name, file: file, line: line)
    XCTAssertEqual(exact.totals.omega, omega, accuracy: 1e-7 * omega, name, file: file, line: line)
    for budget in problem.budgets {
        XCTAssertLessThanOrEqual(exact.totals.value(budget.kind)!, budget.limit * (1 + 1e-12), "\(name) \(budget.kind)", file: file, line: line)
    }
    let milpTotals = try XCTUnwrap(problem.evaluate(bits: expected["bits"] as! [Int], activationBits: expected["activation_bits"] as? [Int]),
                                   name, file: file, line: line)
    XCTAssertEqual(milpTotals.omega, omega, accuracy: 1e-9 * omega, name, file: file, line: line)
    if let greedy = try? problem.solve(.greedy) {
        XCTAssertGreaterThanOrEqual(greedy.totals.omega, exact.totals.omega * (1 - 1e-9), name, file: file, line: line)
        XCTAssertLessThanOrEqual(greedy.lowerBound, exact.totals.omega * (1 + 1e-9), name, file: file, line: line)
    }
    return exact
}

func fixturesDirectory() -> URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/allocation")
}
