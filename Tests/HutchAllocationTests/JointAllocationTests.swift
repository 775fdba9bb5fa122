import Foundation
import XCTest
@testable import HutchAllocation

/// Joint weight + activation allocation on a small hand-made report: a residual fork (layers 1
/// and 2 read one activation) joined with a weight tie (layers 2 and 3), checked by brute force
/// over every assignment; pins, one-line errors, plan.json fields and the latency table's
/// activation rows.
final class JointAllocationTests: XCTestCase {
    /// Four layers; layer 1 and 2 read "fork", layers 2 and 3 share a tie group.
    private func report(activations: Bool = true) -> SensitivityReport {
        let values = ["input", "fork", "fork", "last_input"]
        let layers = (0 ..< 4).map { i -> SensitivityReport.Layer in
            var layer = SensitivityReport.Layer(
                index: i, node: "/l\(i)/Conv", weight: "w\(i)", op: "Conv", shape: [4, 2 + i, 3, 3], parameters: 4 * (2 + i) * 9,
                macs: 1000 * (i + 1), trace: Double(i + 1), tracePerParameter: Double(i + 1) / Double(4 * (2 + i) * 9),
                standardError: nil, probes: nil, exact: true, method: "exact",
                quantizationError: Dictionary(uniqueKeysWithValues: [2, 4, 8].map { (String($0), Double(10 + i) * pow(4, -Double($0))) }),
                tieGroup: i >= 2 ? "/add" : nil)
            if activations {
                layer.activation = .init(value: values[i], trace: [3.0, 5.0, 5.0, 0.5][i], standardError: 0.1, probes: 8, elements: 64,
                                         quantizationError: Dictionary(uniqueKeysWithValues: [4, 8].map { (String($0), 0.5 * pow(4, -Double($0))) }))
            }
            return layer
        }
        return SensitivityReport(job: .init(modelDigest: "sha256:" + String(repeating: "a", count: 64), samples: 8, method: "exact", toolVersion: "test"),
                                 quantization: .init(scheme: "test", bits: [2, 4, 8]), layers: layers)
    }

    private func request(_ budgets: [BudgetSpec], pins: [Pin] = []) -> AllocationRequest {
        var request = AllocationRequest(bits: [2, 4, 8], budgets: budgets, pins: pins)
        request.activationCandidates = [4, 8]
        return request
    }

    /// The smallest Ω over all weight × activation assignments that respect ties, forks and budgets.
    private func bruteForce(_ problem: AllocationProblem, report: SensitivityReport, allowed: (Int, Int, Int) -> Bool = { _, _, _ in true }) -> Double? {
        var best: Double?
        for code in 0 ..< 81 * 16 {   // 3^4 weight × 2^4 activation assignments
            var c = code
            let bits = (0 ..< 4).map { _ -> Int in defer { c /= 3 }; return [2, 4, 8][c % 3] }
            let activations = (0 ..< 4).map { _ -> Int in defer { c /= 2 }; return [4, 8][c % 2] }
            guard bits[2] == bits[3], activations[1] == activations[2],
                  (0 ..< 4).allSatisfy({ allowed($0, bits[$0], activations[$0]) }) else { continue }
            // Ω by the definitions: Tr/n·error per weight, Tr_a·error_a once per activation tensor
            var omega = 0.0, bops = 0.0
            var counted = Set<String>()
            for layer in report.layers {
                omega += layer.trace / Double(layer.parameters) * layer.quantizationError(bits: bits[layer.index])!
                let a = layer.activation!
                if counted.insert(a.value).inserted { omega += a.trace * a.quantizationError[String(activations[layer.index])]! }
                bops += Double(layer.macs! * bits[layer.index] * activations[layer.index])
            }
            guard problem.budgets.allSatisfy({ $0.kind != .bops || bops <= $0.limit }) else { continue }
            if best == nil || omega < best! { best = omega }
        }
        return best
    }

    func testExactMatchesBruteForceWithForkAndTie() throws {
        let report = report()
        for giga in [0.0001, 0.00016, 0.00025, 0.0004] {
            let problem = try AllocationProblem(report: report, request: request([.gigaBOPs(giga)]))
            XCTAssertEqual(problem.groups, [[0], [1, 2, 3]])
            let allocation = try problem.solve(.exact)
            XCTAssertTrue(allocation.provenOptimal)
            let expected = try XCTUnwrap(bruteForce(problem, report: report))
            XCTAssertEqual(allocation.totals.omega, expected, accuracy: 1e-12 * expected, "\(giga) GBOPs")
            XCTAssertEqual(allocation.activationBits[1], allocation.activationBits[2])
            XCTAssertEqual(allocation.bits[2], allocation.bits[3])
            XCTAssertLessThanOrEqual(allocation.totals.bops!, giga * 1e9)
        }
    }

    /// The frontier over joint choices is exactly the brute-force Pareto set of (BOPs, Ω).
    func testFrontierIsTheBruteForceParetoSetOfJointChoices() throws {
        let report = report()
        let problem = try AllocationProblem(report: report, request: request([]))
        XCTAssertEqual(problem.frontierCost, .bops)
        var best: [Double: Double] = [:]   // BOPs → smallest Ω over joint assignments
        for code in 0 ..< 81 * 16 {
            var c = code
            let bits = (0 ..< 4).map { _ -> Int in defer { c /= 3 }; return [2, 4, 8][c % 3] }
            let activations = (0 ..< 4).map { _ -> Int in defer { c /= 2 }; return [4, 8][c % 2] }
            guard bits[2] == bits[3], activations[1] == activations[2],
                  let totals = problem.evaluate(bits: bits, activationBits: activations) else { continue }
            best[totals.bops!] = min(best[totals.bops!] ?? .infinity, totals.omega)
        }
        var pareto: [(Double, Double)] = []
        for bops in best.keys.sorted() where pareto.last.map({ best[bops]! < $0.1 }) ?? true { pareto.append((bops, best[bops]!)) }
        let frontier = problem.frontier()
        XCTAssertEqual(frontier.map { $0.bops! }, pareto.map(\.0))
        for (point, expected) in zip(frontier, pareto) {
            XCTAssertEqual(point.omega, expected.1, accuracy: 1e-12 * expected.1)
        }
        XCTAssertTrue(frontier.contains { $0.activationBits!.contains(4) }, "cheap points lower activations")
        let document = FrontierDocument(problem: problem, frontier: frontier, chosen: nil, sensitivityDigest: "sha256:00")
        XCTAssertEqual(document.cost, "bops")
        XCTAssertTrue(document.svg().contains("bit operations per example"))
        XCTAssertEqual(document.uniform.map(\.bits), [2, 4, 8])
        XCTAssertTrue(document.uniform.allSatisfy { $0.bops != nil })
    }

    func testPinsFixWeightsActivationsOrBothAndForksFollow() throws {
        let report = report()
        let pins = [Pin(layer: .first), Pin(layer: .name("/l1/Conv"), activationBits: 4, weight: false), Pin(layer: .last, bits: 2)]
        let problem = try AllocationProblem(report: report, request: request([.gigaBOPs(0.0002)], pins: pins))
        let allocation = try problem.solve(.exact)
        XCTAssertEqual(allocation.bits[0], 8)
        XCTAssertEqual(allocation.activationBits[0], 8)
        XCTAssertEqual(allocation.activationBits[1], 4)
        XCTAssertEqual(allocation.activationBits[2], 4, "layer 2 reads the pinned activation")
        XCTAssertEqual(allocation.bits[2], 2, "layer 2's weights are tied to the pinned last layer")
        let expected = try XCTUnwrap(bruteForce(problem, report: report) { layer, w, a in
            (layer != 0 || (w == 8 && a == 8)) && (layer != 1 || a == 4) && (layer != 3 || w == 2)
        })
        XCTAssertEqual(allocation.totals.omega, expected, accuracy: 1e-12 * expected)
        let plan = Plan(problem: problem, allocation: allocation, sensitivityDigest: "sha256:" + String(repeating: "1", count: 64), modelDigest: "m")
        XCTAssertEqual(plan.layers.map(\.pinned), [true, true, false, true])
        XCTAssertEqual(plan.layers.map(\.activationBits), allocation.activationBits)
        XCTAssertEqual(plan.activationCandidateBits, [4, 8])
        XCTAssertEqual(plan.layers[1].activationSharedWith, ["/l2/Conv"])
        XCTAssertEqual(plan.layers[2].activationOmega, 0, "the first reader carries the shared activation's term")
        XCTAssertGreaterThan(plan.layers[1].activationOmega ?? 0, 0)
        XCTAssertEqual(plan.layers[2].tiedWith, ["/l3/Conv"], "tied_with stays the weight ties")
    }

    func testOneLineErrors() throws {
        assertMessage(try AllocationProblem(report: report(activations: false), request: request([])),
                      "layers[0] ('/l0/Conv') has no activation sensitivity, which --act-bits with several widths needs; run hutch trace --activations")
        assertMessage(try AllocationProblem(report: report(), request: request([], pins: [Pin(layer: .name("/l1/Conv"), activationBits: 4, weight: false),
                                                                                       Pin(layer: .name("/l2/Conv"), activationBits: 8, weight: false)])),
                      "layers reading one activation have no common candidate width: '/l1/Conv' [4], '/l2/Conv' [8]; change --pin")
        assertMessage(try AllocationProblem(report: report(), request: AllocationRequest(pins: [Pin(layer: .first, activationBits: 4, weight: false)])),
                      "--pin first=a4: activations are all 8 bits; give --act-bits with several widths to choose them per layer")
        var missing = request([])
        missing.activationCandidates = [2, 8]
        assertMessage(try AllocationProblem(report: report(), request: missing), "has no activation quantization_error for 2 bits (it has [4, 8])")
    }

    func testLatencyRowsKeyedOnActivationBitsOverrideWeightOnlyRows() throws {
        let csv = "layer,bits,activation_bits,milliseconds\n/l0/Conv,8,4,1.5\n/l0/Conv,8,8,2.5\n/l0/Conv,4,0.75\n"
        let table = try LatencyTable.parse(Data(csv.utf8), source: "t.csv")
        XCTAssertEqual(table.milliseconds(layer: "/l0/Conv", bits: 8, activationBits: 4), 1.5)
        XCTAssertEqual(table.milliseconds(layer: "/l0/Conv", bits: 8, activationBits: 8), 2.5)
        XCTAssertEqual(table.milliseconds(layer: "/l0/Conv", bits: 4, activationBits: 8), 0.75, "a weight-only row holds for every activation width")
        XCTAssertNil(table.milliseconds(layer: "/l0/Conv", bits: 2, activationBits: 8))
        let json = #"[{"layer": "a", "bits": 4, "activation_bits": 8, "milliseconds": 1}, {"layer": "a", "bits": 4, "milliseconds": 2}]"#
        let parsed = try LatencyTable.parse(Data(json.utf8), source: "t.json")
        XCTAssertEqual(parsed.milliseconds(layer: "a", bits: 4, activationBits: 8), 1)
        XCTAssertEqual(parsed.milliseconds(layer: "a", bits: 4, activationBits: 4), 2)
        XCTAssertThrowsError(try LatencyTable.parse(Data("a,4,8,1\na,4,8,2\n".utf8), source: "d.csv")) { error in
            XCTAssertEqual("\(error)", "d.csv line 2: duplicate entry for layer 'a' at 4 bits, activations 8 bits")
        }
    }

    private func assertMessage<T>(_ body: @autoclosure () throws -> T, _ fragment: String, line: UInt = #line) {
        XCTAssertThrowsError(try body(), line: line) { error in
            XCTAssertTrue("\(error)".contains(fragment), "\(error)", line: line)
            XCTAssertFalse("\(error)".contains("\n"), line: line)
        }
    }
}
