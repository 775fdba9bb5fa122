/// Exact branch and bound for several budgets. Bounds come from the Lagrangian relaxation at
/// the root multipliers λ*: a node that fixed items 0..<k is bounded by
///   L(λ*) + Σ_{fixed} reduced cost,   reduced cost = value + λ*·weights − min over the item,
/// (valid because λ* ≥ 0 and the completion must fit), and by the fixed value plus the smallest
/// remaining values; nodes whose fixed weights plus the lightest remaining weights exceed a
/// capacity are cut; a family of multipliers around λ* adds capacity-aware bounds. The search is
/// best first (see `BranchSearch`), so it expands only nodes whose bound is below the optimum.
extension KnapsackInstance {
    /// Children examined before the search gives up (the answer is then the best found, not proven);
    /// a fifth of it bounds the nodes kept in memory (≈ 60 bytes each with three budgets).
    public static let defaultNodeLimit = 20_000_000

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
            let scaleD = lambda[d] > 0 ? lambda[d] : lineMaximumAlone(d)
            for factor in [0.0, 0.5, 0.8, 0.9, 0.95, 1.05, 1.1, 1.25, 1.5, 2, 3] where scaleD > 0 {
                var candidate = lambda
                candidate[d] = scaleD * factor
                if candidate != lambda { multipliers.append(candidate) }
            }
        }
        // Pairs of budgets moved together (one up, one down, or both), for paths that traded one for another.
        for d in 0 ..< k {
            for e in d + 1 ..< k {
                let sd = lambda[d] > 0 ? lambda[d] : lineMaximumAlone(d)
                let se = lambda[e] > 0 ? lambda[e] : lineMaximumAlone(e)
                guard sd > 0, se > 0 else { continue }
                for (fd, fe) in [(0.8, 1.25), (1.25, 0.8), (1.25, 1.25), (0.5, 2.0), (2.0, 0.5), (1.5, 1.5)] {
                    var candidate = lambda
                    candidate[d] = sd * fd
                    candidate[e] = se * fe
                    multipliers.append(candidate)
                }
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

/// Best-first search: always expand the open node with the smallest bound (deeper first on
/// ties), so every node expanded has a bound below the optimum; the first complete selection
/// taken from the queue, or the incumbent once no open bound is below it, is optimal.
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

    // The search tree, one entry per created node: how it was reached and what it has fixed.
    private var parent: [Int32] = []
    private var choice: [Int32] = []
    private var depthOf: [Int32] = []
    private var valueOf: [Double] = []
    private var reducedOf: [Double] = []
    private var used: [Double] = []
    private var heap = BoundHeap()
    /// Dominance between open states: two partial selections of the same depth with equal totals
    /// in every budget but the last are compared on (last total, value); a state no better in
    /// both than one already created cannot lead anywhere the other cannot (same remaining items).
    /// Layers of the same shape make such collisions frequent.
    private var seen: [StateKey: [(last: Double, value: Double)]] = [:]

    private struct StateKey: Hashable {
        var depth: Int32
        var a: Double
        var b: Double
    }

    /// True when an equal-or-better state of this depth exists; otherwise records this one.
    private func dominated(depth: Int, totals: [Double], value: Double) -> Bool {
        let k = totals.count
        guard k >= 2 else { return false }
        let key = StateKey(depth: Int32(depth), a: totals[0], b: k == 3 ? totals[1] : 0)
        let last = totals[k - 1]
        if let list = seen[key] {
            for entry in list where entry.last <= last && entry.value <= value { return true }
        }
        seen[key, default: []].append((last, value))
        return false
    }

    init(instance: KnapsackInstance, order: [Int], itemChoices: [[Int]], reduced: [Double],
         minWeightAfter: [Double], minValueAfter: [Double], rootBound: Double,
         multipliers: [Double], lagrangeAfter: [Double], bestValue: Double, nodeLimit: Int) {
        self.instance = instance
        self.order = order
        self.itemChoices = itemChoices
        self.reduced = reduced
        self.minWeightAfter = minWeightAfter
        self.minValueAfter = minValueAfter
        self.rootBound = rootBound
        self.multipliers = multipliers
        self.lagrangeAfter = lagrangeAfter
        multiplierCount = multipliers.count / max(instance.dimensions, 1)
        self.bestValue = bestValue
        self.nodeLimit = nodeLimit
    }

    private var pruneLevel: Double {
        bestValue.isFinite ? bestValue - Knapsack.relativeTolerance * abs(bestValue) : .infinity
    }

    func run() {
        let k = instance.dimensions
        let n = order.count
        parent.append(-1); choice.append(-1); depthOf.append(0); valueOf.append(0); reducedOf.append(0)
        used.append(contentsOf: [Double](repeating: 0, count: k))
        if n == 0 { bestValue = 0; bestFlat = []; return }
        heap.push(bound: rootBound, depth: 0, node: 0)
        var child = [Double](repeating: 0, count: k)
        while let top = heap.pop() {
            if top.bound >= pruneLevel { break }   // no open node can beat the incumbent
            let node = top.node
            let depth = Int(depthOf[node])
            let item = order[depth]
            for c in itemChoices[item] {
                nodes += 1
                if nodes >= nodeLimit { hitLimit = true; return }
                let level = pruneLevel
                let r = reducedOf[node] + reduced[c]
                var bound = rootBound + r
                if bound >= level { break }          // choices are sorted by reduced cost
                let v = valueOf[node] + instance.values[c]
                bound = max(bound, v + minValueAfter[depth + 1])
                if bound >= level { continue }
                var fits = true
                for d in 0 ..< k {
                    child[d] = used[node * k + d] + instance.weights[c * k + d]
                    if !Knapsack.fits(child[d] + minWeightAfter[(depth + 1) * k + d], instance.capacities[d]) { fits = false; break }
                }
                if !fits { continue }
                if depth + 1 == n {
                    if v < bestValue { bestValue = v; bestFlat = path(to: node, last: c) }
                    continue
                }
                let base = (depth + 1) * multiplierCount
                for index in 0 ..< multiplierCount {
                    var b = v + lagrangeAfter[base + index]
                    for d in 0 ..< k { b -= multipliers[index * k + d] * (instance.capacities[d] - child[d]) }
                    if b > bound { bound = b; if bound >= level { break } }
                }
                if bound >= level { continue }
                if dominated(depth: depth + 1, totals: child, value: v) { continue }
                let id = parent.count
                if id >= nodeLimit / 5 { hitLimit = true; return }
                parent.append(Int32(node)); choice.append(Int32(c)); depthOf.append(Int32(depth + 1))
                valueOf.append(v); reducedOf.append(r); used.append(contentsOf: child)
                heap.push(bound: bound, depth: depth + 1, node: id)
            }
        }
    }

    /// Flat choice per item for the selection ending with `last` below `node`.
    private func path(to node: Int, last: Int) -> [Int] {
        var flat = [Int](repeating: 0, count: order.count)
        flat[order[order.count - 1]] = last
        var current = node
        while current > 0 {
            flat[order[Int(depthOf[current]) - 1]] = Int(choice[current])
            current = Int(parent[current])
        }
        return flat
    }
}

/// A binary min-heap on (bound, −depth): smallest bound first, deeper nodes first on ties.
private struct BoundHeap {
    private var bounds: [Double] = []
    private var depths: [Int32] = []
    private var nodes: [Int32] = []

    private func less(_ a: Int, _ b: Int) -> Bool {
        bounds[a] < bounds[b] || (bounds[a] == bounds[b] && depths[a] > depths[b])
    }

    private mutating func swapAt(_ a: Int, _ b: Int) {
        bounds.swapAt(a, b); depths.swapAt(a, b); nodes.swapAt(a, b)
    }

    mutating func push(bound: Double, depth: Int, node: Int) {
        bounds.append(bound); depths.append(Int32(depth)); nodes.append(Int32(node))
        var i = bounds.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            guard less(i, p) else { break }
            swapAt(i, p)
            i = p
        }
    }

    mutating func pop() -> (bound: Double, node: Int)? {
        guard let bound = bounds.first else { return nil }
        let node = Int(nodes[0])
        swapAt(0, bounds.count - 1)
        bounds.removeLast(); depths.removeLast(); nodes.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < bounds.count && less(l, m) { m = l }
            if r < bounds.count && less(r, m) { m = r }
            if m == i { break }
            swapAt(i, m)
            i = m
        }
        return (bound, node)
    }
}
