import Foundation
import HutchAllocation
@testable import HutchJobs
import HutchModel
import XCTest

/// `hutch plan` as a job, and the plan's widths as `hutch quantize` reads them against a model.
final class PlanJobTests: JobsTestCase {
    var sensitivity: String { repository("Tests/Fixtures/export/digits_sensitivity.json") }

    func makePlan(frontier: String? = nil, svg: String? = nil) throws -> Plan {
        var request = AllocationRequest()
        request.budgets = [.averageBits(4)]
        var job = PlanJob(sensitivity: sensitivity, request: request, out: path("plan.json"))
        (job.frontier, job.svg) = (frontier, svg)
        return try job.run()
    }

    func testThePlanWrittenIsThePlanReturnedAndNamesItsSensitivityFile() throws {
        let plan = try makePlan()
        let written = try Plan.decode(Data(contentsOf: URL(fileURLWithPath: path("plan.json"))), source: "plan.json")
        XCTAssertEqual(written, plan)
        XCTAssertEqual(plan.sensitivityDigest, Digest.sha256(try bytes(sensitivity)))
        XCTAssertLessThanOrEqual(plan.totals.averageBits, 4)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("frontier.json")), "no frontier unless asked")
    }

    func testTheFrontierIsWrittenOnRequest() throws {
        _ = try makePlan(frontier: path("frontier.json"), svg: path("frontier.svg"))
        XCTAssertTrue(String(decoding: try bytes(path("frontier.json")), as: UTF8.self).contains("hutch.frontier"))
        XCTAssertTrue(String(decoding: try bytes(path("frontier.svg")), as: UTF8.self).hasPrefix("<svg"))
    }

    func testTheQuantizationErrorsAreRecomputedOnlyFromTheModelTheTracesCameFrom() throws {
        var request = AllocationRequest()
        request.budgets = [.averageBits(4)]
        var job = PlanJob(sensitivity: sensitivity, request: request, out: path("plan.json"))
        job.model = repository("Tests/Fixtures/mlp.onnx")
        assertFails(.invalidSensitivity, "pass the model the traces came from") { try job.run() }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("plan.json")))
    }

    func testEveryLayerOfTheModelGetsItsPlannedWidths() throws {
        let plan = try makePlan()
        let model = repository("Examples/digits_resnet.onnx")
        let graph = try ONNXLoader.load(bytes: try bytes(model), source: model)
        let widths = PlanWidths(plan: plan)
        XCTAssertNoThrow(try widths.check(modelDigest: Digest.sha256(try bytes(model)), modelPath: model, source: "plan.json"))
        XCTAssertEqual(try widths.widths(for: graph, source: "plan.json").map(\.weightBits), plan.layers.map(\.weightBits))

        assertFails(.invalidSensitivity, "the plan was made for model") {
            try widths.check(modelDigest: "sha256:00", modelPath: model, source: "plan.json")
        }
        var short = plan
        short.layers.removeLast()
        assertFails(.invalidSensitivity, "no width for layers") { try PlanWidths(plan: short).widths(for: graph, source: "plan.json") }
        var wide = plan
        wide.layers[0].weightBits = 17
        assertFails(.invalidSensitivity, "outside 1...16") { try PlanWidths(plan: wide).widths(for: graph, source: "plan.json") }
    }

    /// The plan's JSON with another format name.
    func planJSON(format: String) throws -> [String: Any] {
        _ = try makePlan()
        var root = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path("plan.json")))) as? [String: Any])
        root["format"] = format
        return root
    }

    func testAFileThatIsNotAPlanIsRefusedWithWhatIsWrong() {
        assertFails(.invalidSensitivity, "missing field") { try PlanWidths.decode(Data("{}".utf8), source: "p.json") }
        assertFails(.invalidSensitivity, "format is 'other'") {
            try PlanWidths.decode(try JSONSerialization.data(withJSONObject: self.planJSON(format: "other")), source: "p.json")
        }
    }
}
