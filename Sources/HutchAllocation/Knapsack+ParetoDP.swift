/// Dynamic programming over Pareto sets for one weight dimension (Nemhauser–Ullmann): after
/// each item keep only the (weight, value) states no other state dominates. Exact for any
/// weights (no capacity grid); size costs are integers, summed exactly in Double below 2^53.
/// With a capacity and an upper bound, states that cannot beat the bound are dropped using the
/// Lagrangian bound of the remaining items, which keeps the sets small.
struct ParetoStage {
    var cost: [Double] = []
    var value: [Double] = []
    var parent: [Int32] = []
    var choice: [UInt16] = []
}

extension KnapsackInstance {
    /// Every non-dominated (weight, value) point of dimension 0 over all selections, cheapest first,
    /// with the selection reaching each point.
    public func paretoFrontier() -> [(weight: Double, value: Double, selection: [Int])] {
        let stages = paretoStages(capacity: nil, upperBound: .infinity, lambda: 0)
        guard let last = stages.last else { return [] }
        return (0 ..< last.cost.count).map { (last.cost[$0], last.value[$0], backtrack(stages, $0)) }
    }

    /// Exact minimum under one capacity (dimension 0). Nil when infeasible.
    public func solveParetoDP(incumbent: KnapsackSolution? = nil, upperBound: Double = .infinity) -> KnapsackSolution? {
        precondition(dimensions == 1, "Pareto DP handles one budget")
        let capacity = capacities[0]
        let upper = min(incumbent?.value ?? .infinity, upperBound)
        let (lambda, rootBound) = lagrangeMultipliers(target: upper)
        let stages = paretoStages(capacity: capacity, upperBound: upper, lambda: lambda[0])
        let work = stages.reduce(0) { $0 + $1.cost.count }
        var best: KnapsackSolution? = incumbent
        if let last = stages.last {
            // Values decrease with cost along a Pareto set: the optimum is the last state that fits.
            if let index = (0 ..< last.cost.count).last(where: { Knapsack.fits(last.cost[$0], capacity) }),
               best == nil || last.value[index] < best!.value {
                let selection = backtrack(stages, index)
                let (value, totals) = evaluate(selection)
                best = KnapsackSolution(selection: selection, value: value, weights: totals, provenOptimal: true,
                                        lowerBound: value, work: work, algorithm: "pareto-dp")
            }
        }
        guard var result = best else { return nil }
        result.provenOptimal = true
        result.lowerBound = min(result.value, rootBound)
        result.work = work
        result.algorithm = "pareto-dp"
        return result
    }

    private func backtrack(_ stages: [ParetoStage], _ index: Int) -> [Int] {
        var selection = [Int](repeating: 0, count: itemCount)
        var i = index
        for item in stride(from: itemCount - 1, through: 0, by: -1) {
            selection[item] = Int(stages[item].choice[i])
            i = Int(stages[item].parent[i])
        }
        return selection
    }

    /// stages[k] holds the Pareto set after items 0...k.
    private func paretoStages(capacity: Double?, upperBound: Double, lambda: Double) -> [ParetoStage] {
        let n = itemCount
        // Suffix sums over items k..<n: lightest weight, smallest value, smallest value + λ·weight.
        var minWeightAfter = [Double](repeating: 0, count: n + 1)
        var minValueAfter = [Double](repeating: 0, count: n + 1)
        var minLagrangeAfter = [Double](repeating: 0, count: n + 1)
        for item in stride(from: n - 1, through: 0, by: -1) {
            let range = choices(of: item)
            minWeightAfter[item] = minWeightAfter[item + 1] + range.map { weights[$0] }.min()!
            minValueAfter[item] = minValueAfter[item + 1] + range.map { values[$0] }.min()!
            minLagrangeAfter[item] = minLagrangeAfter[item + 1] + range.map { values[$0] + lambda * weights[$0] }.min()!
        }
        let prune = upperBound.isFinite ? upperBound - Knapsack.relativeTolerance * abs(upperBound) : .infinity
        let cap = capacity ?? .infinity
        let lambdaCap = capacity.map { lambda * $0 } ?? 0

        var stages: [ParetoStage] = []
        stages.reserveCapacity(n)
        var previous = ParetoStage(cost: [0], value: [0], parent: [-1], choice: [0])
        for item in 0 ..< n {
            let after = item + 1
            var merged = ParetoStage()
            for (local, c) in choices(of: item).enumerated() {
                let w = weights[c], v = values[c]
                var shifted = ParetoStage()
                shifted.cost.reserveCapacity(previous.cost.count)
                shifted.value.reserveCapacity(previous.cost.count)
                for s in 0 ..< previous.cost.count {
                    let cost = previous.cost[s] + w
                    let value = previous.value[s] + v
                    if capacity != nil {
                        if !Knapsack.fits(cost + minWeightAfter[after], cap) { break }   // costs ascend
                        if value + minValueAfter[after] >= prune { continue }
                        if value + lambda * cost + minLagrangeAfter[after] - lambdaCap >= prune { continue }
                    }
                    shifted.cost.append(cost)
                    shifted.value.append(value)
                    shifted.parent.append(Int32(s))
                    shifted.choice.append(UInt16(local))
                }
                merged = Self.mergePareto(merged, shifted)
            }
            stages.append(merged)
            previous = merged
        }
        return stages
    }

    /// Merges two Pareto sets (costs ascending, values strictly descending) into one.
    private static func mergePareto(_ a: ParetoStage, _ b: ParetoStage) -> ParetoStage {
        if a.cost.isEmpty { return filterDominated(b) }
        var out = ParetoStage()
        let total = a.cost.count + b.cost.count
        out.cost.reserveCapacity(total); out.value.reserveCapacity(total)
        out.parent.reserveCapacity(total); out.choice.reserveCapacity(total)
        var i = 0, j = 0
        var lastValue = Double.infinity
        while i < a.cost.count || j < b.cost.count {
            let takeA: Bool
            if j >= b.cost.count { takeA = true }
            else if i >= a.cost.count { takeA = false }
            else { takeA = (a.cost[i], a.value[i]) <= (b.cost[j], b.value[j]) }
            if takeA {
                if a.value[i] < lastValue {
                    lastValue = a.value[i]
                    out.cost.append(a.cost[i]); out.value.append(a.value[i])
                    out.parent.append(a.parent[i]); out.choice.append(a.choice[i])
                }
                i += 1
            } else {
                if b.value[j] < lastValue {
                    lastValue = b.value[j]
                    out.cost.append(b.cost[j]); out.value.append(b.value[j])
                    out.parent.append(b.parent[j]); out.choice.append(b.choice[j])
                }
                j += 1
            }
        }
        return out
    }

    private static func filterDominated(_ b: ParetoStage) -> ParetoStage {
        var out = ParetoStage()
        var lastValue = Double.infinity
        for j in 0 ..< b.cost.count where b.value[j] < lastValue {
            lastValue = b.value[j]
            out.cost.append(b.cost[j]); out.value.append(b.value[j])
            out.parent.append(b.parent[j]); out.choice.append(b.choice[j])
        }
        return out
    }
}
