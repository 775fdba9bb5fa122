/// The HAWQ-V2 Pareto frontier of weight size against Ω (pins and ties respected, budgets
/// ignored), from one Pareto-DP pass over the groups' choices (joint ones too), and the
/// uniform-precision points it is compared with.
public struct FrontierPoint: Sendable, Equatable {
    public var sizeBits: Double
    public var omega: Double
    /// Weight bits per layer.
    public var bits: [Int]
    /// Activation bits per layer in a joint allocation (nil otherwise).
    public var activationBits: [Int]?
    public init(sizeBits: Double, omega: Double, bits: [Int], activationBits: [Int]? = nil) {
        self.sizeBits = sizeBits
        self.omega = omega
        self.bits = bits
        self.activationBits = activationBits
    }
}

extension AllocationProblem {
    /// Every non-dominated (size, Ω) point, smallest size first (Ω strictly decreasing).
    public func frontier() -> [FrontierPoint] {
        let instance = knapsack(kinds: [.size], capacities: [.infinity])
        return instance.paretoFrontier().map { point in
            let (bits, activationBits) = widths(from: point.selection)
            let totals = evaluate(bits: bits, activationBits: activationBits)!
            return FrontierPoint(sizeBits: totals.sizeBits, omega: totals.omega, bits: bits,
                                 activationBits: isJoint ? activationBits : nil)
        }
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
            guard let totals = evaluate(bits: assignment, activationBits: activations) else { return nil }
            return (b, FrontierPoint(sizeBits: totals.sizeBits, omega: totals.omega, bits: assignment,
                                     activationBits: isJoint ? activations : nil))
        }
    }
}
