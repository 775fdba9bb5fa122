/// Solving an allocation problem: exact (Pareto DP for one budget, branch and bound for several,
/// per-group minimum without budgets) or greedy; infeasible budgets become an
/// `InfeasibilityReport` with the smallest value each budget can take.
public enum SolverKind: String, Sendable, CaseIterable {
    case exact
    case greedy
}

public struct Allocation: Sendable {
    /// Weight bits per layer, in layer order.
    public var bits: [Int]
    /// Input activation bits per layer, in layer order.
    public var activationBits: [Int]
    public var totals: AllocationTotals
    public var solver: SolverKind
    /// "pareto-dp", "branch-and-bound", "greedy-convex-hull" or "unconstrained".
    public var algorithm: String
    public var provenOptimal: Bool
    /// A proven lower bound on the optimal Ω (equal to Ω when proven optimal).
    public var lowerBound: Double
    /// DP states, search nodes or upgrades examined.
    public var work: Int
}

extension AllocationProblem {
    public func solve(_ solver: SolverKind, nodeLimit: Int = KnapsackInstance.defaultNodeLimit) throws -> Allocation {
        let instance = knapsack(kinds: budgets.map(\.kind), capacities: budgets.map(\.limit))
        try checkFeasible(instance)
        let solution: KnapsackSolution
        switch solver {
        case .greedy:
            guard let found = instance.solveGreedy().solution else {
                throw AllocationError.invalidRequest("the greedy solver's cheapest starting point does not fit all budgets together; use --solver exact")
            }
            solution = found
        case .exact:
            let incumbent = instance.solveGreedy().solution
            let found: KnapsackSolution?
            switch budgets.count {
            case 0: found = unconstrained(instance)
            case 1: found = instance.solveParetoDP(incumbent: incumbent)
            default: found = instance.solveBranchAndBound(incumbent: incumbent, nodeLimit: nodeLimit)
            }
            guard let found else { throw AllocationError.infeasible(infeasibility(instance)) }
            solution = found
        }
        let (bits, activationBits) = widths(from: solution.selection)
        return Allocation(bits: bits, activationBits: activationBits, totals: evaluate(bits: bits, activationBits: activationBits)!,
                          solver: solver, algorithm: solution.algorithm,
                          provenOptimal: solution.provenOptimal, lowerBound: solution.lowerBound, work: solution.work)
    }

    /// Every budget must at least be reachable on its own; joint infeasibility shows up in the search.
    private func checkFeasible(_ instance: KnapsackInstance) throws {
        let minimum = instance.minimumWeights
        if (0 ..< budgets.count).contains(where: { !Knapsack.fits(minimum[$0], budgets[$0].limit) }) {
            throw AllocationError.infeasible(infeasibility(instance))
        }
    }

    private func unconstrained(_ instance: KnapsackInstance) -> KnapsackSolution {
        // Smallest Ω per group; on equal Ω the narrower (cheaper) width.
        let selection = (0 ..< instance.itemCount).map { item -> Int in
            let first = instance.choices(of: item).lowerBound
            return (0 ..< instance.choices(of: item).count).min {
                (instance.values[first + $0], $0) < (instance.values[first + $1], $1)
            } ?? 0
        }
        let value = instance.evaluate(selection).value
        return KnapsackSolution(selection: selection, value: value, weights: [], provenOptimal: true,
                                lowerBound: value, work: instance.itemCount, algorithm: "unconstrained")
    }

    /// Smallest value of each budget alone and, with several budgets, under the others.
    func infeasibility(_ instance: KnapsackInstance) -> InfeasibilityReport {
        let minimum = instance.minimumWeights
        let entries = budgets.enumerated().map { d, budget -> InfeasibilityReport.Entry in
            var withOthers: Double?
            if budgets.count > 1 {
                let others = budgets.enumerated().filter { $0.offset != d }.map(\.element)
                let sub = knapsack(kinds: others.map(\.kind), capacities: others.map(\.limit), value: budget.kind)
                let othersReachable = (0 ..< others.count).allSatisfy { Knapsack.fits(sub.minimumWeights[$0], others[$0].limit) }
                if othersReachable {
                    let best = others.count == 1 ? sub.solveParetoDP(incumbent: sub.solveGreedy().solution)
                                                 : sub.solveBranchAndBound(incumbent: sub.solveGreedy().solution)
                    withOthers = best?.value
                }
            }
            return InfeasibilityReport.Entry(budget: budget, minimumAlone: minimum[d], minimumWithOthers: withOthers)
        }
        return InfeasibilityReport(entries: entries)
    }
}
