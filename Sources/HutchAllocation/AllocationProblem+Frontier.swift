/// The HAWQ-V2 Pareto frontier of weight size against Ω (pins and ties respected, budgets
/// ignored), from one Pareto-DP pass over the groups' choices, and the uniform-precision points
/// it is compared with. A joint allocation's frontier is of BOPs against Ω instead: activation
/// widths change BOPs but not size.
public struct FrontierPoint: Sendable, Equatable {
    public var sizeBits: Double
    public var omega: Double
    /// Weight bits per layer.
    public var bits: [Int]
    /// Activation bits per layer and BOPs in a joint allocation (nil otherwise).
    public var activationBits: [Int]?
    public var bops: Double?
    public init(sizeBits: Double, omega: Double, bits: [Int], activationBits: [Int]? = nil, bops: Double? = nil) {
        self.sizeBits = sizeBits
        self.omega = omega
        self.bits = bits
        self.activationBits = activationBits
        self.bops = bops
    }
}

extension AllocationProblem {
    /// The frontier's cost: BOPs for a joint allocation whose layers all have MAC counts, else size.
    public var frontierCost: CostKind {
        isJoint && layers.allSatisfy({ $0.macs != nil }) ? .bops : .size
    }

    /// Every non-dominated (cost, Ω) point, cheapest first (Ω strictly decreasing).
    public func frontier() -> [FrontierPoint] {
        let instance = knapsack(kinds: [frontierCost], capacities: [.infinity])
        return instance.paretoFrontier().map { point in
            let (bits, activationBits) = widths(from: point.selection)
            return frontierPoint(bits: bits, activationBits: activationBits)
        }
    }

    /// The point of an assignment (activations and BOPs only in a joint allocation).
    public func frontierPoint(bits: [Int], activationBits: [Int]) -> FrontierPoint {
        let totals = evaluate(bits: bits, activationBits: activationBits)!
        return FrontierPoint(sizeBits: totals.sizeBits, omega: totals.omega, bits: bits,
                             activationBits: isJoint ? activationBits : nil, bops: isJoint ? totals.bops : nil)
    }

    /// For each global candidate width b: every layer at b (pinned or restricted groups that
    /// cannot take b at their only width). Widths some unpinned group cannot take are skipped.
    /// In a joint allocation every activation takes its group's widest choice at those weights.
    public func uniformPoints() -> [(bits: Int, point: FrontierPoint)] {
        candidateBits.compactMap { b in
            var assignment = [Int](repeating: 0, count: layers.count)
            var activations = assignment
            for g in groups.indices {
                // each member at b, or at its only weight width; activations at their widest
                var targets: [Int] = []
                for layer in groups[g] {
                    let widths = Set(layers[layer].candidates.map(\.bits))
                    if widths.contains(b) { targets.append(b) } else if widths.count == 1 { targets.append(widths.first!) } else { return nil }
                }
                // the last matching choice: activations are the innermost, ascending digits of the choices
                guard let j = choices[g].indices.last(where: { j in
                    zip(choiceCandidates(group: g, choice: j), targets).allSatisfy { $0.bits == $1 }
                }) else { return nil }
                for (layer, c) in zip(groups[g], choiceCandidates(group: g, choice: j)) {
                    (assignment[layer], activations[layer]) = (c.bits, c.activationBits)
                }
            }
            guard evaluate(bits: assignment, activationBits: activations) != nil else { return nil }
            return (b, frontierPoint(bits: assignment, activationBits: activations))
        }
    }
}
