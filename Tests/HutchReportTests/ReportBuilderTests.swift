import Foundation
import HutchAllocation
@testable import HutchReport
import XCTest

/// report.html from parsed inputs: every element tests and people look for, one bar per layer,
/// every input string escaped, nothing fetched from anywhere.
final class ReportBuilderTests: XCTestCase {
    /// A small sensitivity report: traces spanning several decades, Hutchinson errors on some layers.
    func sensitivity(names: [String], hutchinson: Bool = true, traces: [Double]? = nil) -> SensitivityReport {
        let layers = names.enumerated().map { i, name -> SensitivityReport.Layer in
            let parameters = 16 * (i + 1)
            let trace = traces?[i] ?? pow(10, Double(i) - 1) * 3
            var errors: [String: Double] = [:]
            for b in AllocationRequest.defaultBits { errors[String(b)] = Double(parameters) * pow(4, -Double(b)) * Double(i + 1) }
            return SensitivityReport.Layer(index: i, node: name, weight: name + ".weight", op: "Conv", shape: [parameters],
                                           parameters: parameters, macs: parameters * 10, trace: trace,
                                           tracePerParameter: trace / Double(parameters),
                                           standardError: hutchinson && i % 2 == 0 ? trace * 0.1 : nil,
                                           probes: hutchinson ? 20 + i : nil, exact: !hutchinson,
                                           method: hutchinson ? "hutchinson" : "exact", quantizationError: errors)
        }
        return SensitivityReport(job: .init(modelDigest: "sha256:" + String(repeating: "ab", count: 32), samples: 64,
                                            batchSize: 16, seed: 7, method: hutchinson ? "hutchinson" : "exact",
                                            mode: hutchinson ? "joint" : nil, toolVersion: "0.1.0"),
                                 quantization: .init(scheme: "symmetric_per_channel_minmax", bits: AllocationRequest.defaultBits),
                                 layers: layers)
    }

    /// The plan (4 bits average) and its frontier, as `hutch plan` makes them.
    func planAndFrontier(_ report: SensitivityReport) throws -> (Plan, FrontierDocument) {
        let problem = try AllocationProblem(report: report, request: AllocationRequest(budgets: [.averageBits(4)]))
        let allocation = try problem.solve(.exact)
        let plan = Plan(problem: problem, allocation: allocation, sensitivityDigest: "sha256:00", modelDigest: report.job.modelDigest)
        let chosen = FrontierPoint(sizeBits: allocation.totals.sizeBits, omega: allocation.totals.omega, bits: allocation.bits)
        return (plan, FrontierDocument(problem: problem, frontier: problem.frontier(), chosen: chosen, sensitivityDigest: "sha256:00"))
    }

    func runRecord(workers: [String] = ["local-1", "local-2"]) -> RunRecord {
        RunRecord(hutchVersion: "0.1.0", command: "run", model: "/m.onnx", data: ["/d.npz"], startedAt: "2026-11-21T19:00:00Z",
                  finishedAt: "2026-11-21T19:00:12Z", wallSeconds: 12.5, workersExpected: 2, workers: workers, tasks: 40,
                  duplicates: 1, phases: [.init(name: "setup", seconds: 0.5, tasks: 0), .init(name: "sensitivity", seconds: 10, tasks: 38)])
    }

    func evaluation(layers: Int, data: String = "digits.npz") -> Evaluation {
        Evaluation(data: data, examples: 450, rows: [
            .init(name: "float32", bits: nil, accuracy: 0.99, loss: 0.03, weightBytes: 8000),
            .init(name: "uniform 8-bit", bits: Array(repeating: 8, count: layers), accuracy: 0.99, loss: 0.031, weightBytes: 2100),
            .init(name: "uniform 4-bit", bits: Array(repeating: 4, count: layers), accuracy: 0.98, loss: 0.06, weightBytes: 1100),
            .init(name: "plan", bits: Array(repeating: 4, count: layers), accuracy: 0.985, loss: 0.05, weightBytes: 1090),
        ])
    }

    func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    func testEveryElementIsPresentWithOneBarPerLayer() throws {
        let report = sensitivity(names: ["conv1", "block1/c1", "block1/c2", "fc", "head"])
        let (plan, frontier) = try planAndFrontier(report)
        let html = ReportBuilder.html(ReportInput(sensitivity: report, plan: plan, frontier: frontier, run: runRecord(),
                                                  evaluation: evaluation(layers: 5)))
        for id in ["job-metadata", "run-metadata", "sensitivity-chart", "bits-chart", "frontier-chart", "chosen-plan",
                   "plan-summary", "accuracy-table", "layer-table"] {
            XCTAssertEqual(count("id=\"\(id)\"", in: html), 1, "exactly one #\(id)")
        }
        XCTAssertEqual(count("class=\"layer-bar\"", in: html), 5)
        XCTAssertEqual(count("class=\"bits-bar\"", in: html), 5)
        XCTAssertEqual(count("class=\"layer-row\"", in: html), 5)
        XCTAssertEqual(count("class=\"accuracy-row\"", in: html), 4)
        XCTAssertGreaterThan(frontier.points.count, 5)
        XCTAssertEqual(count("class=\"frontier-point\"", in: html), frontier.points.count)
        XCTAssertEqual(count("class=\"uniform-point\"", in: html), frontier.uniform.count)
        XCTAssertEqual(frontier.uniform.count, AllocationRequest.defaultBits.count)
        // the bits chart shows the plan's widths, in layer order
        let shown = html.components(separatedBy: "class=\"bits-bar\"").dropFirst().map { part -> Int in
            let start = try! XCTUnwrap(part.range(of: "data-bits=\"")).upperBound
            return Int(part[start...].prefix { $0.isNumber })!
        }
        XCTAssertEqual(shown, plan.layers.map(\.weightBits))
        // Hutchinson layers 0, 2, 4 have a standard error: one error bar each
        XCTAssertEqual(count("class=\"error-bar\"", in: html), 3)
        XCTAssertTrue(html.contains("log scale"), "traces over 4 decades are drawn on a log axis")
        XCTAssertTrue(html.contains("local-2"))
    }

    func testHostileNamesAreEscapedEverywhere() throws {
        let hostile = ["<script>alert(1)</script>", "\"><img src=x onerror=alert(2)>", "a&b'c", "</svg><b>x</b>"]
        var report = sensitivity(names: hostile)
        report.job.toolVersion = "<script>v</script>"
        report.job.method = "<i>m</i>"
        let (plan, frontier) = try planAndFrontier(report)
        let html = ReportBuilder.html(ReportInput(sensitivity: report, plan: plan, frontier: frontier,
                                                  run: runRecord(workers: ["<b>w</b>"]),
                                                  evaluation: evaluation(layers: 4, data: "<script>d</script>")))
        XCTAssertFalse(html.contains("<script"), "no script element can come from input")
        XCTAssertFalse(html.contains("<img"))
        XCTAssertFalse(html.contains("<b>"), "markup in names stays text")
        XCTAssertFalse(html.contains("<i>m"))
        XCTAssertEqual(count("</svg>", in: html), 3, "only the three charts close an svg")
        XCTAssertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        XCTAssertTrue(html.contains("a&amp;b&#39;c"))
        XCTAssertTrue(html.contains("data-layer=\"&quot;&gt;&lt;img"))
        XCTAssertEqual(count("class=\"layer-bar\"", in: html), 4)
    }

    func testNothingIsFetched() throws {
        let report = sensitivity(names: ["a", "b", "c"])
        let (plan, frontier) = try planAndFrontier(report)
        let html = ReportBuilder.html(ReportInput(sensitivity: report, plan: plan, frontier: frontier, run: runRecord(),
                                                  evaluation: evaluation(layers: 3)))
        for forbidden in ["http", "<script", "src=", "url(", "@import", "<link", "@font-face"] {
            XCTAssertFalse(html.lowercased().contains(forbidden), "report.html must not contain \(forbidden)")
        }
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        // the standalone frontier SVG keeps its namespace
        XCTAssertTrue(frontier.svg().contains("xmlns=\"http://www.w3.org/2000/svg\""))
    }

    func testSensitivityAloneHasChartsButNoPlanParts() {
        let report = sensitivity(names: ["a", "b"], hutchinson: false, traces: [2, 5])
        let html = ReportBuilder.html(ReportInput(sensitivity: report))
        XCTAssertEqual(count("class=\"layer-bar\"", in: html), 2)
        XCTAssertEqual(count("class=\"error-bar\"", in: html), 0, "exact traces have no error bars")
        XCTAssertFalse(html.contains("log scale"), "traces within one decade use a linear axis")
        for absent in ["bits-chart", "chosen-plan", "accuracy-table", "frontier-chart"] {
            XCTAssertFalse(html.contains("id=\"\(absent)\""), "\(absent) needs a plan, a frontier or an evaluation")
        }
        XCTAssertTrue(html.contains("id=\"accuracy-missing\""))
        XCTAssertTrue(html.contains("none (exact traces)"))
    }

    func testZeroTraceOnALogAxisIsDrawnWithoutNaN() {
        let report = sensitivity(names: ["a", "b", "c"], traces: [0, 1e-3, 40])
        let html = ReportBuilder.html(ReportInput(sensitivity: report))
        XCTAssertEqual(count("class=\"layer-bar\"", in: html), 3)
        XCTAssertFalse(html.contains("nan"), "every coordinate is finite")
        XCTAssertFalse(html.contains("inf\""))
    }

    func testRunRecordRoundTripsAndRejectsCorruptFiles() throws {
        let record = runRecord()
        XCTAssertEqual(try RunRecord.decode(try record.encoded()), record)
        let text = String(decoding: try record.encoded(), as: UTF8.self)
        XCTAssertTrue(text.contains("\"wall_seconds\""), "snake_case keys")
        XCTAssertThrowsError(try RunRecord.decode(Data("{\"format\": \"hutch.run\"}".utf8), source: "x/run.json")) { error in
            let message = "\(error)"
            XCTAssertTrue(message.hasPrefix("x/run.json: missing field"), message)
            XCTAssertFalse(message.contains("\n"))
        }
        var wrong = record
        wrong.format = "hutch.plan"
        XCTAssertThrowsError(try RunRecord.decode(try wrong.encoded()))
    }
}
