/// The HAWQ-V2 Pareto frontier of weight size against Ω (pins and ties respected, budgets
/// ignored), from one Pareto-DP pass, and the uniform-precision points it is compared with.
public struct FrontierPoint: Sendable, Equatable {
    public var sizeBits: Double
    public var omega: Double
    /// Weight bits per layer.
    public var bits: [Int]
    public init(sizeBits: Double, omega: Double, bits: [Int]) {
        self.sizeBits = sizeBits
        self.omega = omega
        self.bits = bits
    }
}

extension AllocationProblem {
    /// Every non-dominated (size, Ω) point, smallest size first (Ω strictly decreasing).
    public func frontier() -> [FrontierPoint] {
        let instance = knapsack(kinds: [.size], capacities: [.infinity])
        return instance.paretoFrontier().map { point in
            let bits = bits(from: point.selection)
            let totals = evaluate(bits: bits)!
            return FrontierPoint(sizeBits: totals.sizeBits, omega: totals.omega, bits: bits)
        }
    }

    /// For each global candidate width b: every layer at b (pinned or restricted groups that
    /// cannot take b at their only width). Widths some unpinned group cannot take are skipped.
    public func uniformPoints() -> [(bits: Int, point: FrontierPoint)] {
        candidateBits.compactMap { b in
            var assignment = [Int](repeating: 0, count: layers.count)
            for (g, members) in groups.enumerated() {
                let widths = groupBits(g)
                let chosen: Int
                if widths.contains(b) { chosen = b } else if widths.count == 1 { chosen = widths[0] } else { return nil }
                for layer in members { assignment[layer] = chosen }
            }
            guard let totals = evaluate(bits: assignment) else { return nil }
            return (b, FrontierPoint(sizeBits: totals.sizeBits, omega: totals.omega, bits: assignment))
        }
    }
}
