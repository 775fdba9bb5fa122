import HutchTestSupport
import XCTest
@testable import HutchAllocation

/// Exact solvers against exhaustive enumeration on many seeded random instances.
final class KnapsackSolverTests: XCTestCase {
    func testParetoDPEqualsBruteForceOnOneBudget() {
        var rng = SplitMix64(seed: 11)
        for trial in 0 ..< 300 {
            let instance = randomInstance(&rng, items: 1 + trial % 7, dimensions: 1)
            let brute = bruteForce(instance)
            let dp = instance.solveParetoDP(incumbent: instance.solveGreedy().solution)
            assertSame(brute, dp, "trial \(trial)", instance)
        }
    }

    func testBranchAndBoundEqualsBruteForceOnOneToThreeBudgets() {
        var rng = SplitMix64(seed: 12)
        for trial in 0 ..< 600 {
            let instance = randomInstance(&rng, items: 1 + trial % 7, dimensions: 1 + trial % 3)
            let brute = bruteForce(instance)
            let withIncumbent = instance.solveBranchAndBound(incumbent: instance.solveGreedy().solution)
            let cold = instance.solveBranchAndBound()
            assertSame(brute, withIncumbent, "trial \(trial) warm", instance)
            assertSame(brute, cold, "trial \(trial) cold", instance)
            XCTAssertTrue(withIncumbent?.provenOptimal ?? true)
        }
    }

    func testGreedyNeverBeatsExactAndStaysWithinItsBound() {
        var rng = SplitMix64(seed: 13)
        var compared = 0
        for trial in 0 ..< 400 {
            let instance = randomInstance(&rng, items: 2 + trial % 6, dimensions: 1)
            guard let exact = bruteForce(instance) else { continue }
            let greedy = instance.solveGreedy()
            guard let solution = greedy.solution else { continue }   // cheapest start may not fit
            compared += 1
            XCTAssertTrue(instance.isFeasible(solution.selection))
            let tol = 1e-9 * max(1, abs(exact.value))
            XCTAssertGreaterThanOrEqual(solution.value, exact.value - tol, "trial \(trial)")
            XCTAssertLessThanOrEqual(solution.value - exact.value, greedy.breakGain + tol, "trial \(trial)")
            XCTAssertLessThanOrEqual(solution.lowerBound, exact.value + tol, "trial \(trial)")
        }
        XCTAssertGreaterThan(compared, 200)
    }

    func testLagrangianBoundNeverExceedsOptimum() {
        var rng = SplitMix64(seed: 14)
        for trial in 0 ..< 300 {
            let instance = randomInstance(&rng, items: 2 + trial % 6, dimensions: 1 + trial % 3)
            guard let exact = bruteForce(instance) else { continue }
            let bound = instance.lagrangeMultipliers(target: exact.value).bound
            XCTAssertLessThanOrEqual(bound, exact.value + 1e-9 * max(1, abs(exact.value)), "trial \(trial)")
        }
    }

    func testParetoFrontierMatchesEnumeration() {
        var rng = SplitMix64(seed: 15)
        for trial in 0 ..< 200 {
            let instance = randomInstance(&rng, items: 1 + trial % 6, dimensions: 1)
            let frontier = instance.paretoFrontier()
            // Enumerate every selection and keep the non-dominated (weight, value) pairs.
            var points: [(Double, Double)] = []
            enumerate(instance) { selection in
                let (v, w) = instance.evaluate(selection)
                points.append((w[0], v))
            }
            points.sort { $0 < $1 }
            var expected: [(Double, Double)] = []
            for p in points where expected.last.map({ p.1 < $0.1 }) ?? true { expected.append(p) }
            XCTAssertEqual(frontier.count, expected.count, "trial \(trial)")
            for (f, e) in zip(frontier, expected) {
                XCTAssertEqual(f.weight, e.0, accuracy: 1e-9, "trial \(trial)")
                XCTAssertEqual(f.value, e.1, accuracy: 1e-9 * max(1, abs(e.1)), "trial \(trial)")
                let (v, w) = instance.evaluate(f.selection)
                XCTAssertEqual(v, f.value, accuracy: 1e-9 * max(1, abs(v)))
                XCTAssertEqual(w[0], f.weight, accuracy: 1e-9)
            }
        }
    }

    // MARK: helpers

    private func assertSame(_ brute: KnapsackSolution?, _ solved: KnapsackSolution?, _ label: String,
                            _ instance: KnapsackInstance, file: StaticString = #filePath, line: UInt = #line) {
        guard let brute else {
            XCTAssertNil(solved, "\(label): solver found a selection where none is feasible", file: file, line: line)
            return
        }
        guard let solved else { return XCTFail("\(label): solver found nothing, optimum \(brute.value)", file: file, line: line) }
        XCTAssertTrue(instance.isFeasible(solved.selection), "\(label): infeasible", file: file, line: line)
        XCTAssertEqual(solved.value, brute.value, accuracy: 1e-9 * max(1, abs(brute.value)), label, file: file, line: line)
    }
}

/// Every selection, lexicographically.
func enumerate(_ instance: KnapsackInstance, _ body: ([Int]) -> Void) {
    var selection = [Int](repeating: 0, count: instance.itemCount)
    while true {
        body(selection)
        var item = instance.itemCount - 1
        while item >= 0 {
            selection[item] += 1
            if selection[item] < instance.choices(of: item).count { break }
            selection[item] = 0
            item -= 1
        }
        if item < 0 { return }
    }
}

func bruteForce(_ instance: KnapsackInstance) -> KnapsackSolution? {
    var best: KnapsackSolution?
    enumerate(instance) { selection in
        guard instance.isFeasible(selection) else { return }
        let (v, w) = instance.evaluate(selection)
        if best == nil || v < best!.value {
            best = KnapsackSolution(selection: selection, value: v, weights: w, provenOptimal: true,
                                    lowerBound: v, work: 0, algorithm: "brute-force")
        }
    }
    return best
}

/// Random instances shaped like bit allocation: value falls and weights rise with the choice
/// index (with noise, so some choices are dominated), capacities between the lightest and
/// heaviest totals (sometimes below: infeasible).
func randomInstance(_ rng: inout SplitMix64, items: Int, dimensions: Int) -> KnapsackInstance {
    var list: [[KnapsackChoice]] = []
    for _ in 0 ..< items {
        let m = 1 + Int(rng.next() % 5)
        let scale = (0 ..< dimensions).map { _ in Double(1 + rng.next() % 50) }
        let sensitivity = rng.unit() * 10
        var choices: [KnapsackChoice] = []
        for j in 0 ..< m {
            let bits = Double(j + 2) + (rng.unit() < 0.2 ? rng.unit() * 2 : 0)
            let value = sensitivity * pow(2, -bits) + (rng.unit() < 0.1 ? rng.unit() : 0)
            let weights = (0 ..< dimensions).map { d in (scale[d] * bits * (1 + (d == 2 ? rng.unit() : 0))).rounded() }
            choices.append(KnapsackChoice(value: value, weights: weights))
        }
        list.append(choices)
    }
    let lo = (0 ..< dimensions).map { d in list.reduce(0.0) { $0 + $1.map { $0.weights[d] }.min()! } }
    let hi = (0 ..< dimensions).map { d in list.reduce(0.0) { $0 + $1.map { $0.weights[d] }.max()! } }
    let caps = (0 ..< dimensions).map { d in (lo[d] - 2 + (hi[d] - lo[d] + 4) * rng.unit()).rounded() }
    return KnapsackInstance(items: list, capacities: caps)
}

