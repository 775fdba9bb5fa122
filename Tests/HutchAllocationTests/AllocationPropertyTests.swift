import HutchTestSupport
import XCTest
@testable import HutchAllocation

/// Whole-problem property tests: random small sensitivity reports with pins, ties and 1–3
/// budgets, solved exactly and compared with enumeration of every per-layer assignment.
final class AllocationPropertyTests: XCTestCase {
    func testExactEqualsBruteForceWithPinsTiesAndBudgets() throws {
        var rng = SplitMix64(seed: 2026)
        var feasibleCount = 0, infeasibleCount = 0
        for trial in 0 ..< 400 {
            let layerCount = 2 + trial % 5
            let report = randomReport(&rng, layers: layerCount)
            let request = randomRequest(&rng, report: report, budgets: 1 + trial % 3)
            let problem = try AllocationProblem(report: report, request: request)
            let brute = bruteForce(problem, report: report, request: request)
            do {
                let exact = try problem.solve(.exact)
                guard let brute else { return XCTFail("trial \(trial): solver found \(exact.bits), brute force found nothing") }
                feasibleCount += 1
                XCTAssertTrue(exact.provenOptimal)
                XCTAssertEqual(exact.totals.omega, brute.omega, accuracy: 1e-9 * max(brute.omega, 1e-300), "trial \(trial)")
                XCTAssertTrue(satisfies(exact.bits, problem: problem, report: report, request: request), "trial \(trial)")
                if let greedy = try? problem.solve(.greedy) {
                    XCTAssertGreaterThanOrEqual(greedy.totals.omega, brute.omega * (1 - 1e-9), "trial \(trial)")
                    XCTAssertTrue(satisfies(greedy.bits, problem: problem, report: report, request: request), "trial \(trial)")
                }
            } catch AllocationError.infeasible(let detail) {
                infeasibleCount += 1
                XCTAssertNil(brute, "trial \(trial): reported infeasible, brute force found \(String(describing: brute))")
                XCTAssertEqual(detail.entries.count, problem.budgets.count)
                // Some budget is below its smallest feasible value (costs rise with bits).
                XCTAssertTrue(detail.entries.contains { $0.minimumAlone > $0.budget.limit })
            }
        }
        XCTAssertGreaterThan(feasibleCount, 250)
        XCTAssertGreaterThan(infeasibleCount, 3)
    }

    func testWithoutBudgetsEveryGroupTakesItsSmallestOmega() throws {
        var rng = SplitMix64(seed: 5)
        for trial in 0 ..< 40 {
            let report = randomReport(&rng, layers: 2 + trial % 5)
            var request = randomRequest(&rng, report: report, budgets: 1)
            request.budgets = []
            let problem = try AllocationProblem(report: report, request: request)
            let allocation = try problem.solve(.exact)
            XCTAssertEqual(allocation.algorithm, "unconstrained")
            let brute = bruteForce(problem, report: report, request: request)!
            XCTAssertEqual(allocation.totals.omega, brute.omega, accuracy: 1e-12 * brute.omega, "trial \(trial)")
        }
    }

    func testFrontierIsNonDominatedCompleteAndHoldsParetoOptimalUniformPoints() throws {
        var rng = SplitMix64(seed: 77)
        for trial in 0 ..< 120 {
            let report = randomReport(&rng, layers: 2 + trial % 5)
            var request = randomRequest(&rng, report: report, budgets: 1)
            request.budgets = []
            let problem = try AllocationProblem(report: report, request: request)
            let frontier = problem.frontier()
            for (a, b) in zip(frontier, frontier.dropFirst()) {
                XCTAssertLessThan(a.sizeBits, b.sizeBits, "trial \(trial)")
                XCTAssertGreaterThan(a.omega, b.omega, "trial \(trial)")
            }
            // Against enumeration: the same non-dominated (size, Ω) set.
            var all: [(Double, Double)] = []
            enumerateAssignments(problem, report: report, request: request) { bits in
                let t = problem.evaluate(bits: bits)!
                all.append((t.sizeBits, t.omega))
            }
            all.sort { $0 < $1 }
            var expected: [(Double, Double)] = []
            for p in all where expected.last.map({ p.1 < $0.1 * (1 - 1e-12) }) ?? true { expected.append(p) }
            XCTAssertEqual(frontier.count, expected.count, "trial \(trial)")
            for (f, e) in zip(frontier, expected) {
                XCTAssertEqual(f.sizeBits, e.0, "trial \(trial)")
                XCTAssertEqual(f.omega, e.1, accuracy: 1e-9 * e.1, "trial \(trial)")
                XCTAssertEqual(problem.evaluate(bits: f.bits)!.omega, f.omega, accuracy: 1e-12 * f.omega)
            }
            for (_, u) in problem.uniformPoints() {
                let dominated = frontier.contains { $0.sizeBits <= u.sizeBits && $0.omega < u.omega * (1 - 1e-9) }
                if !dominated {
                    XCTAssertTrue(frontier.contains { $0.sizeBits == u.sizeBits && abs($0.omega - u.omega) <= 1e-9 * u.omega },
                                  "trial \(trial): Pareto-optimal uniform point missing")
                }
            }
        }
    }

    func testSizeBudgetOptimumLiesOnTheFrontier() throws {
        var rng = SplitMix64(seed: 99)
        for trial in 0 ..< 60 {
            let report = randomReport(&rng, layers: 3 + trial % 6)
            var request = randomRequest(&rng, report: report, budgets: 1)
            request.budgets = [.sizeFraction(rng.unit())]
            let problem = try AllocationProblem(report: report, request: request)
            let exact = try problem.solve(.exact)
            let limit = problem.budgets[0].limit
            let best = problem.frontier().last { $0.sizeBits <= limit }!
            XCTAssertEqual(exact.totals.omega, best.omega, accuracy: 1e-9 * best.omega, "trial \(trial)")
        }
    }

    // MARK: brute force over layers (independent of the group/knapsack machinery)

    private struct Best { var omega: Double; var bits: [Int] }

    /// Allowed widths per layer straight from the request: --bits, pins; ties checked on the assignment.
    private func allowed(_ report: SensitivityReport, _ request: AllocationRequest) -> [[Int]] {
        var widths = [[Int]](repeating: request.bits.sorted(), count: report.layers.count)
        for pin in request.pins {
            let layer = index(pin.layer, report)
            widths[layer] = [pin.bits ?? widths[layer].last!]
        }
        return widths
    }

    private func index(_ selector: LayerSelector, _ report: SensitivityReport) -> Int {
        switch selector {
        case .first: return 0
        case .last: return report.layers.count - 1
        case .name(let name): return report.layers.firstIndex { $0.node == name }!
        }
    }

    private func tiedPairs(_ report: SensitivityReport, _ request: AllocationRequest) -> [(Int, Int)] {
        var pairs: [(Int, Int)] = []
        if request.ties.auto {
            for a in report.layers { for b in report.layers where a.index < b.index && a.tieGroup != nil && a.tieGroup == b.tieGroup { pairs.append((a.index, b.index)) } }
        }
        for group in request.ties.groups { for b in group.dropFirst() { pairs.append((index(group[0], report), index(b, report))) } }
        return pairs
    }

    private func enumerateAssignments(_ problem: AllocationProblem, report: SensitivityReport, request: AllocationRequest, _ body: ([Int]) -> Void) {
        let widths = allowed(report, request)
        let pairs = tiedPairs(report, request)
        var choice = [Int](repeating: 0, count: widths.count)
        while true {
            let bits = (0 ..< widths.count).map { widths[$0][choice[$0]] }
            if pairs.allSatisfy({ bits[$0.0] == bits[$0.1] }) { body(bits) }
            var l = widths.count - 1
            while l >= 0 { choice[l] += 1; if choice[l] < widths[l].count { break }; choice[l] = 0; l -= 1 }
            if l < 0 { return }
        }
    }

    private func satisfies(_ bits: [Int], problem: AllocationProblem, report: SensitivityReport, request: AllocationRequest) -> Bool {
        let widths = allowed(report, request)
        guard (0 ..< bits.count).allSatisfy({ widths[$0].contains(bits[$0]) }),
              tiedPairs(report, request).allSatisfy({ bits[$0.0] == bits[$0.1] }) else { return false }
        return costsFit(bits, report: report, request: request, problem: problem)
    }

    /// Costs recomputed from the report and request, not from the problem's candidates.
    private func costsFit(_ bits: [Int], report: SensitivityReport, request: AllocationRequest, problem: AllocationProblem) -> Bool {
        var size = 0.0, bops = 0.0, latency = 0.0
        for (l, layer) in report.layers.enumerated() {
            size += Double(layer.parameters * bits[l])
            bops += Double(layer.macs! * bits[l] * request.activationBits)
            latency += request.latencyTable!.milliseconds(layer: layer.node, bits: bits[l])!
        }
        return problem.budgets.allSatisfy { budget in
            let used = budget.kind == .size ? size : budget.kind == .bops ? bops : latency
            return used <= budget.limit + 1e-9 * budget.limit
        }
    }

    private func bruteForce(_ problem: AllocationProblem, report: SensitivityReport, request: AllocationRequest) -> Best? {
        var best: Best?
        enumerateAssignments(problem, report: report, request: request) { bits in
            guard costsFit(bits, report: report, request: request, problem: problem) else { return }
            var omega = 0.0
            for (l, layer) in report.layers.enumerated() {
                omega += layer.trace / Double(layer.parameters) * layer.quantizationError(bits: bits[l])!
            }
            if best == nil || omega < best!.omega { best = Best(omega: omega, bits: bits) }
        }
        return best
    }
}

/// A random report: small conv-like layers, errors falling ~4× per bit with noise, some tie groups.
func randomReport(_ rng: inout SplitMix64, layers count: Int, bits: [Int] = [2, 3, 4, 5, 6, 8]) -> SensitivityReport {
    let layers = (0 ..< count).map { i -> SensitivityReport.Layer in
        let cout = [4, 8, 16][Int(rng.next() % 3)], cin = [4, 8, 16][Int(rng.next() % 3)]
        let k = rng.unit() < 0.3 ? 1 : 3
        let params = cout * cin * k * k
        let trace = exp(rng.unit() * 6 - 3)
        var errors: [String: Double] = [:]
        for b in bits { errors[String(b)] = Double(params) * pow(4, -Double(b)) * (0.5 + rng.unit()) }
        return SensitivityReport.Layer(
            index: i, node: "/l\(i)/Conv", weight: "w\(i)", op: "Conv", shape: [cout, cin, k, k], parameters: params,
            macs: params * [16, 64, 256][Int(rng.next() % 3)], trace: trace, tracePerParameter: trace / Double(params),
            standardError: nil, probes: nil, exact: true, method: "exact", topEigenvalue: trace / 4,
            quantizationError: errors, tieGroup: i > 0 && i % 3 == 0 ? "add\(i)" : (i % 3 == 1 && i > 1 ? "add\(i - 1)" : nil))
    }
    let job = SensitivityReport.Job(modelDigest: "sha256:" + String(repeating: "0", count: 64), samples: 8, method: "exact", toolVersion: "test")
    return SensitivityReport(job: job, quantization: .init(scheme: "symmetric_per_channel_minmax", bits: bits), layers: layers)
}

/// A random request: a subset of widths, maybe pins and an explicit tie, `budgets` budgets placed
/// between the all-lowest and all-highest totals (sometimes just below: infeasible).
func randomRequest(_ rng: inout SplitMix64, report: SensitivityReport, budgets: Int) -> AllocationRequest {
    var request = AllocationRequest()
    let all = [2, 3, 4, 5, 6, 8]
    request.bits = all.filter { _ in rng.unit() < 0.6 }
    if request.bits.count < 2 { request.bits = [3, 8] }
    let lo = Double(request.bits.min()!), hi = Double(request.bits.max()!)
    if rng.unit() < 0.4 { request.pins.append(Pin(layer: .first, bits: request.bits.randomElement(using: &rng))) }
    if rng.unit() < 0.3 { request.pins.append(Pin(layer: .last)) }
    if report.layers.count >= 4, rng.unit() < 0.4 { request.ties.groups.append([.name("/l1/Conv"), .name("/l3/Conv")]) }
    request.ties.auto = rng.unit() < 0.7
    var entries: [String: [Int: Double]] = [:]
    for layer in report.layers {
        for b in all { entries[layer.node, default: [:]][b] = (Double(layer.macs! * b) / 1000).rounded() / 64 }
    }
    request.latencyTable = LatencyTable(entries: entries)
    let params = Double(report.layers.reduce(0) { $0 + $1.parameters })
    let macs = Double(report.layers.reduce(0) { $0 + $1.macs! })
    let latencyLo = report.layers.reduce(0.0) { $0 + entries[$1.node]![Int(lo)]! }
    let latencyHi = report.layers.reduce(0.0) { $0 + entries[$1.node]![Int(hi)]! }
    var specs: [BudgetSpec] = []
    func fraction() -> Double { rng.unit() * 1.1 - 0.05 }
    specs.append(rng.unit() < 0.5 ? .averageBits(max(0.5, lo + fraction() * (hi - lo))) : .sizeFraction(min(1, max(0, fraction()))))
    specs.append(.gigaBOPs(max(1e-9, macs * 8 * (lo + fraction() * (hi - lo)) / 1e9)))
    specs.append(.latencyMilliseconds(max(1e-6, latencyLo + fraction() * (latencyHi - latencyLo))))
    let chosen = [0, 1, 2].filter { _ in true }.shuffled(using: &rng).prefix(budgets)
    request.budgets = chosen.sorted().map { specs[$0] }
    _ = params
    return request
}

