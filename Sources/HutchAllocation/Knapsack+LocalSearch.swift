/// A primal heuristic for the branch and bound's first incumbent: start from the Lagrangian
/// minimisers (nearly the LP optimum), repair budget violations cheaply, then improve by single
/// and paired choice changes while they help. Only its speed matters: the search proves the result.
extension KnapsackInstance {
    func lagrangianHeuristic(_ lambda: [Double]) -> [Int]? {
        let k = dimensions
        var flat = lagrangian(lambda).picks
        var used = [Double](repeating: 0, count: k)
        for c in flat { for d in 0 ..< k { used[d] += weights[c * k + d] } }
        let scale = (0 ..< k).map { 1 / max(abs(capacities[$0]), 1e-300) }
        func excess(_ totals: [Double]) -> Double {
            (0 ..< k).reduce(0.0) { $0 + max(0, totals[$1] - capacities[$1]) * scale[$1] }
        }
        // Repair: the move with the most violation removed per unit of value added.
        var violation = excess(used)
        var guardSteps = itemCount * 16
        while violation > 0, guardSteps > 0 {
            guardSteps -= 1
            var bestRatio = -Double.infinity
            var bestMove: (item: Int, choice: Int)?
            for item in 0 ..< itemCount {
                let current = flat[item]
                for c in choices(of: item) where c != current {
                    var next = used
                    for d in 0 ..< k { next[d] += weights[c * k + d] - weights[current * k + d] }
                    let removed = violation - excess(next)
                    guard removed > 0 else { continue }
                    let ratio = removed / max(values[c] - values[current], 1e-300 * max(abs(values[current]), 1))
                    if ratio > bestRatio { bestRatio = ratio; bestMove = (item, c) }
                }
            }
            guard let move = bestMove else { return nil }
            for d in 0 ..< k { used[d] += weights[move.choice * k + d] - weights[flat[move.item] * k + d] }
            flat[move.item] = move.choice
            violation = excess(used)
        }
        guard violation <= 0 || (0 ..< k).allSatisfy({ Knapsack.fits(used[$0], capacities[$0]) }) else { return nil }
        improve(&flat, &used)
        return flat
    }

    /// Best-improvement local search over single changes and pairs (one item up, one down).
    func improve(_ flat: inout [Int], _ used: inout [Double]) {
        let k = dimensions
        func fitsWith(_ delta: [Double]) -> Bool {
            (0 ..< k).allSatisfy { Knapsack.fits(used[$0] + delta[$0], capacities[$0]) }
        }
        var delta = [Double](repeating: 0, count: k)
        for _ in 0 ..< min(4 * itemCount, 64) {   // bounded: each pass is O((items·choices)²)
            var bestGain = 0.0
            var bestMoves: [(Int, Int)] = []
            // Single moves.
            for item in 0 ..< itemCount {
                let current = flat[item]
                for c in choices(of: item) where values[c] < values[current] {
                    for d in 0 ..< k { delta[d] = weights[c * k + d] - weights[current * k + d] }
                    let gain = values[current] - values[c]
                    if gain > bestGain, fitsWith(delta) { bestGain = gain; bestMoves = [(item, c)] }
                }
            }
            // Pairs: an improving move in one item paid for by a move in another.
            if bestMoves.isEmpty {
                for a in 0 ..< itemCount {
                    let ca = flat[a]
                    for x in choices(of: a) where values[x] < values[ca] {
                        let gainA = values[ca] - values[x]
                        for b in 0 ..< itemCount where b != a {
                            let cb = flat[b]
                            for y in choices(of: b) where y != cb {
                                let gain = gainA - (values[y] - values[cb])
                                guard gain > bestGain else { continue }
                                for d in 0 ..< k {
                                    delta[d] = weights[x * k + d] - weights[ca * k + d] + weights[y * k + d] - weights[cb * k + d]
                                }
                                if fitsWith(delta) { bestGain = gain; bestMoves = [(a, x), (b, y)] }
                            }
                        }
                    }
                }
            }
            guard !bestMoves.isEmpty else { return }
            for (item, c) in bestMoves {
                for d in 0 ..< k { used[d] += weights[c * k + d] - weights[flat[item] * k + d] }
                flat[item] = c
            }
        }
    }
}
