import Foundation
import XCTest
@testable import HutchAllocation

/// The joint weight + activation allocation (`--act-bits`) against an independent MILP (HiGHS
/// through scipy.optimize.milp), on the committed instances of
/// Tests/Fixtures/allocation/make_joint_milp_fixtures.py: residual forks (one activation read by
/// several layers) joined with weight ties, pins on weights and activations, and up to three budgets.
final class JointMILPFixtureTests: XCTestCase {
    func testExactJointSolverMatchesHiGHSOnEveryFixture() throws {
        let url = fixturesDirectory().appendingPathComponent("joint_milp_instances.json")
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        let instances = root["instances"] as! [[String: Any]]
        XCTAssertGreaterThanOrEqual(instances.count, 6)
        var optimal = 0, infeasible = 0
        for instance in instances {
            let name = instance["name"] as! String
            let report = try SensitivityReport.decode(try JSONSerialization.data(withJSONObject: instance["sensitivity"]!), source: name)
            let problem = try AllocationProblem(report: report, request: makeRequest(instance["request"] as! [String: Any]))
            XCTAssertTrue(problem.isJoint, name)
            let expected = instance["expected"] as! [String: Any]
            if expected["status"] as! String == "infeasible" {
                infeasible += 1
                XCTAssertThrowsError(try problem.solve(.exact), name) { error in
                    guard case AllocationError.infeasible = error else { return XCTFail("\(name): \(error)") }
                }
                continue
            }
            optimal += 1
            let exact = try assertExactMatchesMILP(problem, expected, name)
            // One width per activation tensor, in the exact and the greedy answer.
            assertForksShareWidths(report, exact.activationBits, name)
            if let greedy = try? problem.solve(.greedy) { assertForksShareWidths(report, greedy.activationBits, name) }
            // Frontier points are joint choices too, each evaluating to its Ω.
            for point in problem.frontier() {
                let activations = try XCTUnwrap(point.activationBits, name)
                XCTAssertEqual(problem.evaluate(bits: point.bits, activationBits: activations)!.omega, point.omega,
                               accuracy: 1e-12 * point.omega, name)
                assertForksShareWidths(report, activations, name)
            }
        }
        XCTAssertGreaterThanOrEqual(optimal, 5)
        XCTAssertGreaterThanOrEqual(infeasible, 1)
    }

    private func assertForksShareWidths(_ report: SensitivityReport, _ activationBits: [Int], _ name: String,
                                        file: StaticString = #filePath, line: UInt = #line) {
        var width: [String: Int] = [:]
        for layer in report.layers {
            let value = layer.activation!.value
            if let w = width[value] {
                XCTAssertEqual(activationBits[layer.index], w, "\(name): readers of \(value)", file: file, line: line)
            } else {
                width[value] = activationBits[layer.index]
            }
        }
    }

    private func makeRequest(_ json: [String: Any]) -> AllocationRequest {
        var request = AllocationRequest()
        request.bits = json["bits"] as! [Int]
        request.activationCandidates = json["act_bits"] as? [Int]
        request.objective = Objective(rawValue: json["objective"] as! String)!
        request.budgets = (json["budgets"] as! [[String: Any]]).map { budget in
            let value = budget["value"] as! Double
            switch budget["kind"] as! String {
            case "avg_bits": return .averageBits(value)
            case "size_frac": return .sizeFraction(value)
            case "bops_g": return .gigaBOPs(value)
            default: return .latencyMilliseconds(value)
            }
        }
        request.pins = (json["pins"] as! [[String: Any]]).map {
            Pin(layer: LayerSelector($0["layer"] as! String), bits: $0["bits"] as? Int,
                activationBits: $0["activation_bits"] as? Int, weight: $0["weight"] as! Bool)
        }
        request.ties = TieSpec(auto: true, groups: (json["tie_groups"] as! [[String]]).map { $0.map(LayerSelector.init) })
        var rows: [String: [Int: [Int: Double]]] = [:]
        for row in json["latency_table"] as! [[Any]] {
            let ms = row[3] as? Double ?? Double(row[3] as! Int)
            rows[row[0] as! String, default: [:]][row[1] as! Int, default: [:]][row[2] as! Int] = ms
        }
        request.latencyTable = LatencyTable(entries: [:], activationEntries: rows)
        return request
    }
}
