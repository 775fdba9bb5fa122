/// Lagrangian relaxation of the knapsack: for multipliers λ ≥ 0,
///   L(λ) = Σ_items min_choice (value + λ·weights) − λ·capacities
/// is a lower bound on the optimum. Its maximum over λ equals the LP relaxation bound
/// (the choice constraints have an integral polytope). The solvers only need *a* good λ:
/// any λ ≥ 0 gives a valid bound, so imprecision here costs speed, never correctness.
extension KnapsackInstance {
    /// L(λ), the per-item minimising choices (flat indices) and their weight totals.
    func lagrangian(_ lambda: [Double]) -> (bound: Double, picks: [Int], totals: [Double]) {
        var bound = 0.0
        var picks = [Int](repeating: 0, count: itemCount)
        var totals = [Double](repeating: 0, count: dimensions)
        for item in 0 ..< itemCount {
            var best = Double.infinity
            var bestWeight = Double.infinity
            var pick = start[item]
            for c in choices(of: item) {
                var v = values[c]
                var w = 0.0
                for d in 0 ..< dimensions {
                    v += lambda[d] * weights[c * dimensions + d]
                    w += weights[c * dimensions + d] / max(capacities[d], 1)
                }
                if v < best || (v == best && w < bestWeight) { best = v; bestWeight = w; pick = c }
            }
            bound += best
            picks[item] = pick
            for d in 0 ..< dimensions { totals[d] += weights[pick * dimensions + d] }
        }
        for d in 0 ..< dimensions { bound -= lambda[d] * capacities[d] }
        return (bound, picks, totals)
    }

    /// Multipliers maximising L by cyclic coordinate ascent with exact line searches
    /// (L is concave and piecewise linear along each coordinate), then Polyak subgradient
    /// steps towards `target` (an upper bound, when known). Returns the best λ seen.
    func lagrangeMultipliers(target: Double? = nil) -> (lambda: [Double], bound: Double) {
        var lambda = [Double](repeating: 0, count: dimensions)
        guard dimensions > 0 else { return (lambda, lagrangian(lambda).bound) }
        var best = lagrangian(lambda).bound
        var bestLambda = lambda
        for _ in 0 ..< 30 {
            let before = best
            for d in 0 ..< dimensions {
                lambda[d] = lineMaximum(lambda, dimension: d)
                let value = lagrangian(lambda).bound
                if value > best { best = value; bestLambda = lambda }
            }
            if dimensions == 1 || best - before <= 1e-12 * abs(best) { break }
        }
        // Subgradient polishing on capacity-normalised coordinates (escapes coordinate-ascent kinks).
        if dimensions > 1, let target, target.isFinite {
            lambda = bestLambda
            var scale = 1.0
            var sinceImprovement = 0
            for _ in 0 ..< 200 {
                let (value, _, totals) = lagrangian(lambda)
                if value > best { best = value; bestLambda = lambda; sinceImprovement = 0 } else { sinceImprovement += 1 }
                if sinceImprovement >= 10 { scale *= 0.5; sinceImprovement = 0; lambda = bestLambda }
                let gradient = (0 ..< dimensions).map { totals[$0] - capacities[$0] }
                let norm = gradient.enumerated().reduce(0.0) { $0 + $1.element * $1.element / max(capacities[$1.offset] * capacities[$1.offset], 1e-300) }
                guard norm > 0, target - value > 1e-12 * abs(target) else { break }
                let step = scale * (target - value) / norm
                for d in 0 ..< dimensions {
                    let c2 = max(capacities[d] * capacities[d], 1e-300)
                    lambda[d] = max(0, lambda[d] + step * gradient[d] / c2)
                }
                if scale < 1e-6 { break }
            }
        }
        return (bestLambda, best)
    }

    /// The t ≥ 0 maximising L with λ_d = t and the other multipliers fixed.
    private func lineMaximum(_ lambda: [Double], dimension d: Int) -> Double {
        // Each item's term is the lower envelope of lines a_c + t·w_c; walk it from t = 0,
        // recording where its slope drops and by how much.
        var slope = -capacities[d]
        var events: [(t: Double, drop: Double)] = []
        for item in 0 ..< itemCount {
            let range = choices(of: item)
            func intercept(_ c: Int) -> Double {
                var a = values[c]
                for e in 0 ..< dimensions where e != d { a += lambda[e] * weights[c * dimensions + e] }
                return a
            }
            var current = range.lowerBound
            for c in range where (intercept(c), weights[c * dimensions + d]) < (intercept(current), weights[current * dimensions + d]) {
                current = c
            }
            slope += weights[current * dimensions + d]
            var t = 0.0
            while true {
                let a0 = intercept(current), w0 = weights[current * dimensions + d]
                var nextT = Double.infinity
                var next = -1
                for c in range {
                    let w = weights[c * dimensions + d]
                    guard w < w0 else { continue }
                    let cross = max(t, (intercept(c) - a0) / (w0 - w))
                    if cross < nextT || (cross == nextT && w < weights[next * dimensions + d]) { nextT = cross; next = c }
                }
                guard next >= 0, nextT.isFinite else { break }
                events.append((nextT, w0 - weights[next * dimensions + d]))
                current = next
                t = nextT
            }
        }
        if slope <= 0 { return 0 }
        events.sort { $0.t < $1.t }
        for event in events {
            slope -= event.drop
            if slope <= 0 { return event.t }
        }
        // Slope stays positive: even the lightest choices exceed the capacity (infeasible);
        // any finite λ is a valid bound, the last breakpoint is as good as another.
        return events.last?.t ?? 0
    }
}
