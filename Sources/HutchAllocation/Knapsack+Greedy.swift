/// Greedy MCKP over lower convex hulls (Chen et al., "Towards Mixed-Precision Quantization of
/// Neural Networks via Constrained Optimization", 2021; Sinha & Zoltners 1979): start every item
/// at its cheapest choice, then apply hull upgrades in order of value decrease per unit of cost
/// while they fit. With several budgets the cost is the sum of capacity-normalised weights.
///
/// Bound (one budget): the LP optimum lies between the value reached just before the first
/// upgrade that did not fit and that value minus the upgrade's gain, so
/// greedy − optimum ≤ `breakGain`.
public struct GreedyResult: Sendable {
    public var solution: KnapsackSolution?
    /// Value decrease the first non-fitting upgrade would have brought (0 if every upgrade fit).
    public var breakGain: Double
}

extension KnapsackInstance {
    public func solveGreedy() -> GreedyResult {
        let cost = combinedCosts()
        var selection = [Int](repeating: 0, count: itemCount)
        var totals = [Double](repeating: 0, count: dimensions)
        var upgrades: [(item: Int, from: Int, to: Int, efficiency: Double, order: Int)] = []
        for item in 0 ..< itemCount {
            let hull = lowerHull(item, cost: cost)
            selection[item] = hull[0] - start[item]
            for d in 0 ..< dimensions { totals[d] += weights[hull[0] * dimensions + d] }
            for k in 1 ..< max(hull.count, 1) {
                let dv = values[hull[k]] - values[hull[k - 1]]
                let dc = cost[hull[k]] - cost[hull[k - 1]]
                upgrades.append((item, hull[k - 1], hull[k], dv / dc, upgrades.count))
            }
        }
        guard (0 ..< dimensions).allSatisfy({ Knapsack.fits(totals[$0], capacities[$0]) }) else {
            return GreedyResult(solution: nil, breakGain: 0)
        }
        upgrades.sort { ($0.efficiency, $0.order) < ($1.efficiency, $1.order) }
        var blocked = [Bool](repeating: false, count: itemCount)
        var breakGain: Double?
        for upgrade in upgrades where !blocked[upgrade.item] {
            guard start[upgrade.item] + selection[upgrade.item] == upgrade.from else { continue }
            var fitsAll = true
            for d in 0 ..< dimensions {
                let next = totals[d] - weights[upgrade.from * dimensions + d] + weights[upgrade.to * dimensions + d]
                if !Knapsack.fits(next, capacities[d]) { fitsAll = false }
            }
            if fitsAll {
                for d in 0 ..< dimensions {
                    totals[d] += weights[upgrade.to * dimensions + d] - weights[upgrade.from * dimensions + d]
                }
                selection[upgrade.item] = upgrade.to - start[upgrade.item]
            } else {
                blocked[upgrade.item] = true
                if breakGain == nil { breakGain = values[upgrade.from] - values[upgrade.to] }
            }
        }
        let value = evaluate(selection).value
        let bound = lagrangeMultipliers(target: value).bound
        let solution = KnapsackSolution(selection: selection, value: value, weights: totals,
                                        provenOptimal: false, lowerBound: min(bound, value),
                                        work: upgrades.count, algorithm: "greedy-convex-hull")
        return GreedyResult(solution: solution, breakGain: breakGain ?? 0)
    }

    /// One cost per flat choice: the weight itself for one budget, else Σ_d w_d / capacity_d.
    func combinedCosts() -> [Double] {
        (0 ..< values.count).map { c in
            if dimensions == 1 { return weights[c] }
            return (0 ..< dimensions).reduce(0.0) { $0 + weights[c * dimensions + $1] / max(abs(capacities[$1]), 1e-300) }
        }
    }

    /// Flat indices of the item's lower convex hull in the (cost, value) plane, cheapest first,
    /// values strictly decreasing.
    func lowerHull(_ item: Int, cost: [Double]) -> [Int] {
        let sorted = choices(of: item).sorted { (cost[$0], values[$0], $0) < (cost[$1], values[$1], $1) }
        var hull: [Int] = []
        for c in sorted {
            if let last = hull.last, values[c] >= values[last] { continue }   // dominated
            while hull.count >= 2 {
                let a = hull[hull.count - 2], b = hull[hull.count - 1]
                // Drop b if it lies on or above the segment a → c.
                let cross = (cost[b] - cost[a]) * (values[c] - values[a]) - (values[b] - values[a]) * (cost[c] - cost[a])
                if cross <= 0 { hull.removeLast() } else { break }
            }
            if let last = hull.last, cost[last] == cost[c] { hull.removeLast() }
            hull.append(c)
        }
        return hull
    }
}
