import Foundation
import XCTest
@testable import HutchAllocation

/// Bad input gets a typed error whose one-line message names the field, layer or option.
final class InputValidationTests: XCTestCase {
    private func sample() throws -> [String: Any] {
        let url = fixturesDirectory().appendingPathComponent("sample_sensitivity.json")
        return try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }

    private func decode(_ json: [String: Any]) throws -> SensitivityReport {
        try SensitivityReport.decode(try JSONSerialization.data(withJSONObject: json), source: "s.json")
    }

    private func editLayer(_ index: Int, _ edit: (inout [String: Any]) -> Void) throws -> [String: Any] {
        var json = try sample()
        var layers = json["layers"] as! [[String: Any]]
        edit(&layers[index])
        json["layers"] = layers
        return json
    }

    private func assertMessage(_ expression: @autoclosure () throws -> some Any, contains fragments: [String],
                               file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try expression(), file: file, line: line) { error in
            guard let error = error as? AllocationError else { return XCTFail("untyped error \(error)", file: file, line: line) }
            let message = error.description
            XCTAssertFalse(message.contains("\n"), "message is not one line: \(message)", file: file, line: line)
            for fragment in fragments {
                XCTAssertTrue(message.contains(fragment), "'\(message)' lacks '\(fragment)'", file: file, line: line)
            }
        }
    }

    func testSampleIsValid() throws {
        let report = try decode(try sample())
        XCTAssertEqual(report.layers.count, 20)
        XCTAssertNotNil(report.layers[0].quantizationError(bits: 4))
        // Encoding round trip keeps every field.
        XCTAssertEqual(try SensitivityReport.decode(try report.encoded()), report)
    }

    func testMissingFieldIsNamedWithItsPath() throws {
        let json = try editLayer(3) { $0.removeValue(forKey: "trace") }
        assertMessage(try decode(json), contains: ["s.json", "missing field 'trace'", "layers[3]"])
        var noJob = try sample()
        noJob.removeValue(forKey: "job")
        assertMessage(try decode(noJob), contains: ["missing field 'job'"])
        let wrongType = try editLayer(2) { $0["parameters"] = "many" }
        assertMessage(try decode(wrongType), contains: ["layers[2].parameters", "integer"])
    }

    func testNegativeAndNaNTracesAreRefused() throws {
        assertMessage(try decode(try editLayer(1) { $0["trace"] = -0.5 }), contains: ["layers[1]", "/block1/", "trace is negative", "probes"])
        assertMessage(try decode(try editLayer(4) { $0["trace"] = "NaN" }), contains: ["layers[4]", "trace is nan"])
        // measured_trace is only the negative estimate behind a trace of 0
        assertMessage(try decode(try editLayer(2) { $0["measured_trace"] = 0.5 }), contains: ["layers[2]", "measured_trace is 0.5", "negative"])
        let kept = try decode(try editLayer(2) { $0["trace"] = 0.0; $0["trace_per_parameter"] = 0.0; $0["measured_trace"] = -0.25 })
        XCTAssertEqual(kept.layers[2].measuredTrace, -0.25)
        assertMessage(try decode(try editLayer(0) { $0["quantization_error"] = ["3": -1.0] }), contains: ["layers[0]", "quantization_error[\"3\"]"])
        assertMessage(try decode(try editLayer(0) { $0["quantization_error"] = ["33": 1.0] }), contains: ["keys are bit widths"])
        assertMessage(try decode(try editLayer(5) { $0["shape"] = [1, 2] }), contains: ["layers[5]", "shape"])
        assertMessage(try decode(try editLayer(6) { $0["index"] = 9 }), contains: ["layers[6].index"])
        XCTAssertThrowsError(try SensitivityReport.decode(Data("{\"format\": NaN}".utf8))) { error in
            XCTAssertTrue("\(error)".contains("not valid JSON"), "\(error)")
        }
        var wrongFormat = try sample()
        wrongFormat["format"] = "hutch.plan"
        assertMessage(try decode(wrongFormat), contains: ["'format'", "hutch.sensitivity"])
    }

    func testUnknownNamesInPinsAndTies() throws {
        let report = try decode(try sample())
        assertMessage(try AllocationProblem(report: report, request: AllocationRequest(pins: [Pin(layer: .name("/nope/Conv"), bits: 8)])),
                      contains: ["--pin", "unknown layer '/nope/Conv'"])
        assertMessage(try AllocationProblem(report: report, request: AllocationRequest(ties: TieSpec(auto: false, groups: [[.name("/block2/Conv"), .name("ghost")]]))),
                      contains: ["--tie", "unknown layer 'ghost'"])
        assertMessage(try AllocationProblem(report: report, request: AllocationRequest(layerBits: [(.name("zzz"), [4])])),
                      contains: ["--layer-bits", "'zzz'"])
        assertMessage(try AllocationProblem(report: report, request: AllocationRequest(pins: [Pin(layer: .first, bits: 8), Pin(layer: .first, bits: 4)])),
                      contains: ["pinned to both 8 and 4"])
        // A tie between layers pinned to different widths has no common width.
        assertMessage(try AllocationProblem(report: report, request: AllocationRequest(
            pins: [Pin(layer: .name("/block2/Conv"), bits: 8), Pin(layer: .name("/block3/Conv"), bits: 4)],
            ties: TieSpec(auto: false, groups: [[.name("/block2/Conv"), .name("/block3/Conv")]]))),
            contains: ["no common candidate width", "/block2/Conv", "/block3/Conv"])
    }

    func testEmptyOrOutOfRangeCandidateSets() throws {
        let report = try decode(try sample())
        assertMessage(try AllocationProblem(report: report, request: AllocationRequest(bits: [])), contains: ["--bits", "empty"])
        assertMessage(try AllocationProblem(report: report, request: AllocationRequest(bits: [4, 17])), contains: ["--bits", "17", "1...16"])
        assertMessage(try AllocationProblem(report: report, request: AllocationRequest(layerBits: [(.last, [])])), contains: ["--layer-bits last", "empty"])
        assertMessage(try AllocationProblem(report: report, request: AllocationRequest(bits: [4, 7])), contains: ["quantization_error for 7 bits"])
    }

    func testBudgetBelowAllLowestReportsSmallestFeasibleValue() throws {
        let report = try decode(try sample())
        let problem = try AllocationProblem(report: report, request: AllocationRequest(budgets: [.averageBits(1.5)]))
        let lowest = Double(report.layers.reduce(0) { $0 + $1.parameters } * 2)
        XCTAssertThrowsError(try problem.solve(.exact)) { error in
            guard case AllocationError.infeasible(let detail) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(detail.entries[0].minimumAlone, lowest)
            // in the unit asked for: --avg-bits 1.5 → average bits (every layer at 2 bits, the lowest candidate)
            XCTAssertTrue(detail.description.contains("average weight width ≤ 1.5 bits (smallest feasible alone 2 bits)"), detail.description)
        }
        XCTAssertThrowsError(try problem.solve(.greedy))
        assertMessage(try AllocationProblem(report: report, request: AllocationRequest(budgets: [.sizeFraction(1.5)])), contains: ["--size-frac", "[0, 1]"])
        assertMessage(try AllocationProblem(report: report, request: AllocationRequest(budgets: [.sizeMegabytes(1), .averageBits(4)])), contains: ["two size budgets"])
        assertMessage(try AllocationProblem(report: report, request: AllocationRequest(budgets: [.latencyMilliseconds(3)])), contains: ["--latency-table"])
    }

    func testMissingQuantizationErrorsSaySo() throws {
        var json = try sample()
        json["layers"] = (json["layers"] as! [[String: Any]]).map { var l = $0; l.removeValue(forKey: "quantization_error"); return l }
        json.removeValue(forKey: "quantization")
        let report = try decode(json)
        assertMessage(try AllocationProblem(report: report, request: AllocationRequest()),
                      contains: ["no quantization errors", "--model", "--objective trace"])
        // The trace objective needs none.
        let problem = try AllocationProblem(report: report, request: AllocationRequest(objective: .trace, budgets: [.averageBits(4)]))
        XCTAssertLessThanOrEqual(try problem.solve(.exact).totals.sizeBits, problem.budgets[0].limit)
    }

    func testLatencyTableParsingAndErrors() throws {
        let csv = "layer,bits,milliseconds\n# comment\n/a/Conv,4,0.5\n/a/Conv,8, 0.75\n"
        let table = try LatencyTable.parse(Data(csv.utf8), source: "t.csv")
        XCTAssertEqual(table.milliseconds(layer: "/a/Conv", bits: 8), 0.75)
        let json = #"[{"layer": "/a/Conv", "bits": 4, "milliseconds": 0.5}]"#
        XCTAssertEqual(try LatencyTable.parse(Data(json.utf8), source: "t.json").milliseconds(layer: "/a/Conv", bits: 4), 0.5)
        assertMessage(try LatencyTable.parse(Data("/a/Conv,4\n".utf8), source: "t.csv"), contains: ["t.csv line 1", "3 fields"])
        assertMessage(try LatencyTable.parse(Data("/a/Conv,4,-1\n".utf8), source: "t.csv"), contains: ["line 1", "milliseconds"])
        assertMessage(try LatencyTable.parse(Data("/a/Conv,4,1\n/a/Conv,4,2\n".utf8), source: "t.csv"), contains: ["line 2", "duplicate"])
        assertMessage(try LatencyTable.parse(Data(#"[{"layer": "x", "bits": 4}]"#.utf8), source: "t.json"), contains: ["t.json", "milliseconds"])
        let report = try decode(try sample())
        assertMessage(try AllocationProblem(report: report, request: AllocationRequest(budgets: [.latencyMilliseconds(3)], latencyTable: table)),
                      contains: ["latency table has no entry", "/block0/Conv"])
    }

    func testPlanRecordsBudgetsDigestsAndRoundTrips() throws {
        let report = try decode(try sample())
        let table = try LatencyTable.parse(Data(contentsOf: fixturesDirectory().appendingPathComponent("sample_latency.csv")), source: "lat")
        let request = AllocationRequest(budgets: [.sizeFraction(0.4), .gigaBOPs(0.08), .latencyMilliseconds(3)],
                                        pins: [Pin(layer: .first, bits: 8), Pin(layer: .last)], latencyTable: table)
        let problem = try AllocationProblem(report: report, request: request)
        let allocation = try problem.solve(.exact)
        let plan = Plan(problem: problem, allocation: allocation, sensitivityDigest: "sha256:feed", modelDigest: report.job.modelDigest)
        XCTAssertEqual(plan.layers.first?.weightBits, 8)
        XCTAssertEqual(plan.layers.last?.weightBits, 8)
        XCTAssertTrue(plan.layers.first!.pinned)
        XCTAssertEqual(plan.budgets.map(\.kind), ["size", "bops", "latency"])
        for budget in plan.budgets {
            XCTAssertLessThanOrEqual(budget.used, budget.limit * (1 + 1e-12))
            XCTAssertEqual(budget.slack, budget.limit - budget.used)
        }
        XCTAssertEqual(plan.totals.omega, plan.layers.reduce(0) { $0 + $1.omega }, accuracy: 1e-12 * plan.totals.omega)
        XCTAssertEqual(plan.modelDigest, report.job.modelDigest)
        XCTAssertTrue(plan.solver.provenOptimal)
        let tied = plan.layers.filter { !$0.tiedWith.isEmpty }
        XCTAssertFalse(tied.isEmpty)
        for layer in tied {
            for other in layer.tiedWith { XCTAssertEqual(plan.layers.first { $0.node == other }!.weightBits, layer.weightBits) }
        }
        XCTAssertEqual(try Plan.decode(try plan.encoded()), plan)
        let text = String(decoding: try plan.encoded(), as: UTF8.self)
        XCTAssertTrue(text.contains("\"sensitivity_digest\""))
        XCTAssertTrue(text.contains("\"proven_optimal\""))
    }

    func testFrontierDocumentAndSVG() throws {
        let report = try decode(try sample())
        let problem = try AllocationProblem(report: report, request: AllocationRequest(budgets: [.averageBits(4)]))
        let allocation = try problem.solve(.exact)
        let frontier = problem.frontier()
        let chosen = FrontierPoint(sizeBits: allocation.totals.sizeBits, omega: allocation.totals.omega, bits: allocation.bits)
        let document = FrontierDocument(problem: problem, frontier: frontier, chosen: chosen, sensitivityDigest: "sha256:x")
        XCTAssertEqual(document.uniform.map(\.bits), [2, 3, 4, 5, 6, 8])
        XCTAssertTrue(document.uniform.contains { $0.onFrontier })
        // The chosen plan is on the frontier (a one-budget size optimum).
        XCTAssertTrue(frontier.contains { $0.sizeBits <= chosen.sizeBits && abs($0.omega - chosen.omega) <= 1e-12 * chosen.omega })
        let svg = document.svg()
        XCTAssertTrue(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        XCTAssertTrue(svg.contains("weight size (MB"))
        XCTAssertTrue(svg.contains("4-bit"))
        XCTAssertTrue(svg.contains("chosen plan"))
        XCTAssertFalse(svg.contains("nan"))
    }
}
