/// Exact branch and bound for several budgets. Bounds come from the Lagrangian relaxation at
/// the root multipliers λ*: a node that fixed items 0..<k is bounded by
///   L(λ*) + Σ_{fixed} reduced cost,   reduced cost = value + λ*·weights − min over the item,
/// (valid because λ* ≥ 0 and the completion must fit), and by the fixed value plus the smallest
/// remaining values; nodes whose fixed weights plus the lightest remaining weights exceed a
/// capacity are cut. Depth first, cheapest reduced cost first, so good incumbents come early.
extension KnapsackInstance {
    public static let defaultNodeLimit = 50_000_000

    public func solveBranchAndBound(incumbent: KnapsackSolution? = nil,
                                    nodeLimit: Int = KnapsackInstance.defaultNodeLimit) -> KnapsackSolution? {
        let k = dimensions
        let (lambda, rootBound) = lagrangeMultipliers(target: incumbent?.value)
        let lagrange = lagrangian(lambda)

        // Drop choices another choice of the same item dominates, then order the rest by reduced cost.
        var itemChoices: [[Int]] = []
        var reducedOf = [Double](repeating: 0, count: values.count)
        for item in 0 ..< itemCount {
            let range = Array(choices(of: item))
            let base = values[lagrange.picks[item]] + (0 ..< k).reduce(0.0) { $0 + lambda[$1] * weights[lagrange.picks[item] * k + $1] }
            var kept: [Int] = []
            for c in range {
                let dominated = range.contains { o in
                    guard o != c, values[o] <= values[c], (0 ..< k).allSatisfy({ weights[o * k + $0] <= weights[c * k + $0] }) else { return false }
                    let equal = values[o] == values[c] && (0 ..< k).allSatisfy { weights[o * k + $0] == weights[c * k + $0] }
                    return !equal || o < c
                }
                if !dominated { kept.append(c) }
            }
            for c in kept {
                let lag = values[c] + (0 ..< k).reduce(0.0) { $0 + lambda[$1] * weights[c * k + $1] }
                reducedOf[c] = max(0, lag - base)
            }
            kept.sort { (reducedOf[$0], values[$0], $0) < (reducedOf[$1], values[$1], $1) }
            itemChoices.append(kept)
        }
        // Items with the widest normalised weight spread first: feasibility cuts bite early.
        let spread: [Double] = (0 ..< itemCount).map { item in
            (0 ..< k).map { d -> Double in
                let ws = itemChoices[item].map { weights[$0 * k + d] }
                return (ws.max()! - ws.min()!) / max(abs(capacities[d]), 1e-300)
            }.max() ?? 0
        }
        let order = (0 ..< itemCount).sorted { (-spread[$0], $0) < (-spread[$1], $1) }

        let n = itemCount
        var minWeightAfter = [Double](repeating: 0, count: (n + 1) * k)
        var minValueAfter = [Double](repeating: 0, count: n + 1)
        for depth in stride(from: n - 1, through: 0, by: -1) {
            let cs = itemChoices[order[depth]]
            minValueAfter[depth] = minValueAfter[depth + 1] + cs.map { values[$0] }.min()!
            for d in 0 ..< k {
                minWeightAfter[depth * k + d] = minWeightAfter[(depth + 1) * k + d] + cs.map { weights[$0 * k + d] }.min()!
            }
        }

        // Extra multiplier vectors around λ*: a path that has used much of one budget is bounded
        // better by a larger multiplier on it. Their suffix sums make each check O(dimensions).
        var multipliers: [[Double]] = []
        for d in 0 ..< k {
            var single = [Double](repeating: 0, count: k)
            single[d] = 1
            let scaleD = lambda[d] > 0 ? lambda[d] : lineMaximumAlone(d)
            for factor in [0.0, 0.5, 0.8, 0.9, 0.95, 1.05, 1.1, 1.25, 1.5, 2, 3] where scaleD > 0 {
                var candidate = lambda
                candidate[d] = scaleD * factor
                if candidate != lambda { multipliers.append(candidate) }
            }
        }
        let m = multipliers.count
        var lagrangeAfter = [Double](repeating: 0, count: (n + 1) * max(m, 1))
        for depth in stride(from: n - 1, through: 0, by: -1) {
            let cs = itemChoices[order[depth]]
            for (index, mu) in multipliers.enumerated() {
                let best = cs.map { c in values[c] + (0 ..< k).reduce(0.0) { $0 + mu[$1] * weights[c * k + $1] } }.min()!
                lagrangeAfter[depth * m + index] = lagrangeAfter[(depth + 1) * m + index] + best
            }
        }

        var bestValue = Double.infinity
        var bestSelection: [Int]? = nil
        func offer(_ flat: [Int]) {
            let selection = (0 ..< n).map { flat[$0] - start[$0] }
            guard isFeasible(selection) else { return }
            let value = evaluate(selection).value
            if value < bestValue { bestValue = value; bestSelection = selection }
        }
        if let incumbent { offer((0 ..< n).map { start[$0] + incumbent.selection[$0] }) }
        offer(lagrange.picks)
        if let heuristic = lagrangianHeuristic(lambda) { offer(heuristic) }

        let search = BranchSearch(
            instance: self, order: order, itemChoices: itemChoices, reduced: reducedOf,
            minWeightAfter: minWeightAfter, minValueAfter: minValueAfter, rootBound: rootBound,
            multipliers: multipliers.flatMap { $0 }, lagrangeAfter: lagrangeAfter,
            bestValue: bestValue, nodeLimit: nodeLimit)
        search.run()
        if search.bestValue < bestValue, let found = search.bestFlat {
            offer(found)
        }
        guard let selection = bestSelection else { return nil }
        let (value, totals) = evaluate(selection)
        let proven = !search.hitLimit
        return KnapsackSolution(selection: selection, value: value, weights: totals, provenOptimal: proven,
                                lowerBound: proven ? value : min(rootBound, value),
                                work: search.nodes, algorithm: "branch-and-bound")
    }
}

extension KnapsackInstance {
    /// The best multiplier for budget d alone (others zero): the LP price of that budget.
    fileprivate func lineMaximumAlone(_ d: Int) -> Double {
        let alone = KnapsackInstance(items: (0 ..< itemCount).map { item in
            choices(of: item).map { KnapsackChoice(value: values[$0], weights: [weights[$0 * dimensions + d]]) }
        }, capacities: [capacities[d]])
        return alone.lagrangeMultipliers().lambda[0]
    }
}

/// The depth-first search state; a class so the recursion shares it without copying.
private final class BranchSearch {
    let instance: KnapsackInstance
    let order: [Int]
    let itemChoices: [[Int]]
    let reduced: [Double]
    let minWeightAfter: [Double]
    let minValueAfter: [Double]
    let rootBound: Double
    /// Extra multiplier vectors (row-major, `dimensions` each) and their suffix sums
    /// Σ_{depth..} min(value + μ·weights), row-major by depth.
    let multipliers: [Double]
    let lagrangeAfter: [Double]
    let multiplierCount: Int
    let nodeLimit: Int
    var bestValue: Double
    var bestFlat: [Int]?
    var nodes = 0
    var hitLimit = false
    /// Weight totals of the fixed items, one row of `dimensions` per depth (no drift from undoing sums).
    private var used: [Double]
    private var path: [Int]

    init(instance: KnapsackInstance, order: [Int], itemChoices: [[Int]], reduced: [Double],
         minWeightAfter: [Double], minValueAfter: [Double], rootBound: Double,
         multipliers: [Double], lagrangeAfter: [Double], bestValue: Double, nodeLimit: Int) {
        self.multipliers = multipliers
        self.lagrangeAfter = lagrangeAfter
        multiplierCount = multipliers.count / max(instance.dimensions, 1)
        self.instance = instance
        self.order = order
        self.itemChoices = itemChoices
        self.reduced = reduced
        self.minWeightAfter = minWeightAfter
        self.minValueAfter = minValueAfter
        self.rootBound = rootBound
        self.bestValue = bestValue
        self.nodeLimit = nodeLimit
        used = [Double](repeating: 0, count: (instance.itemCount + 1) * instance.dimensions)
        path = [Int](repeating: 0, count: instance.itemCount)
    }

    private var pruneLevel: Double {
        bestValue.isFinite ? bestValue - Knapsack.relativeTolerance * abs(bestValue) : .infinity
    }

    func run() { descend(depth: 0, value: 0, reducedSum: 0) }

    private func descend(depth: Int, value: Double, reducedSum: Double) {
        let k = instance.dimensions
        if depth == order.count {
            if value < bestValue {
                bestValue = value
                var flat = [Int](repeating: 0, count: order.count)
                for (position, item) in order.enumerated() { flat[item] = path[position] }
                bestFlat = flat
            }
            return
        }
        let item = order[depth]
        for c in itemChoices[item] {
            if hitLimit { return }
            nodes += 1
            if nodes >= nodeLimit { hitLimit = true; return }
            let r = reducedSum + reduced[c]
            let level = pruneLevel
            if rootBound + r >= level { break }          // choices are sorted by reduced cost
            let v = value + instance.values[c]
            if v + minValueAfter[depth + 1] >= level { continue }
            var fits = true
            for d in 0 ..< k where !Knapsack.fits(used[depth * k + d] + instance.weights[c * k + d] + minWeightAfter[(depth + 1) * k + d], instance.capacities[d]) {
                fits = false
                break
            }
            if !fits { continue }
            for d in 0 ..< k { used[(depth + 1) * k + d] = used[depth * k + d] + instance.weights[c * k + d] }
            if multiplierCount > 0 {
                var cut = false
                let base = (depth + 1) * multiplierCount
                for index in 0 ..< multiplierCount {
                    var bound = v + lagrangeAfter[base + index]
                    for d in 0 ..< k {
                        bound -= multipliers[index * k + d] * (instance.capacities[d] - used[(depth + 1) * k + d])
                    }
                    if bound >= level { cut = true; break }
                }
                if cut { continue }
            }
            path[depth] = c
            descend(depth: depth + 1, value: v, reducedSum: r)
        }
    }
}
