/// A validated allocation problem: per layer its candidate widths with Ω and costs, the tie
/// groups (every layer in exactly one group; a group takes one width for all its layers), and
/// budgets in absolute units. Built from sensitivity.json and a request; every solver works on it.
public struct AllocationProblem: Sendable {
    public struct Candidate: Sendable, Equatable {
        public var bits: Int
        public var omega: Double
        public var sizeBits: Double
        /// Nil when the layer has no MAC count.
        public var bops: Double?
        /// Nil without a latency table (or without an entry when no latency budget needs it).
        public var latency: Double?
    }

    public struct Layer: Sendable {
        public var index: Int
        public var node: String
        public var weight: String
        public var parameters: Int
        public var macs: Int?
        /// The widths the layer may take, ascending (its group's common widths).
        public var candidates: [Candidate]
        public var pinned: Bool
        /// Index into `groups`.
        public var group: Int
    }

    public let layers: [Layer]
    /// Tied layers (indices, ascending), groups ordered by their first layer.
    public let groups: [[Int]]
    public let budgets: [Budget]
    public let objective: Objective
    public let activationBits: Int
    /// The request's global candidate widths (uniform-precision comparison points use these).
    public let candidateBits: [Int]
    public let hasLatencyTable: Bool

    /// The widths group g may take, ascending.
    public func groupBits(_ g: Int) -> [Int] { layers[groups[g][0]].candidates.map(\.bits) }

    public var totalParameters: Int { layers.reduce(0) { $0 + $1.parameters } }

    /// Cost of one candidate; nil if unknown.
    public func cost(_ kind: CostKind, _ candidate: Candidate) -> Double? {
        switch kind {
        case .size: return candidate.sizeBits
        case .bops: return candidate.bops
        case .latency: return candidate.latency
        }
    }
}

/// Totals of one assignment (bits per layer).
public struct AllocationTotals: Sendable, Equatable {
    public var omega: Double
    public var sizeBits: Double
    /// Nil when some layer has no MAC count.
    public var bops: Double?
    /// Nil without a latency table.
    public var latency: Double?

    public func value(_ kind: CostKind) -> Double? {
        switch kind {
        case .size: return sizeBits
        case .bops: return bops
        case .latency: return latency
        }
    }
}

extension AllocationProblem {
    /// The candidate of `layer` at `bits`, if allowed.
    public func candidate(layer: Int, bits: Int) -> Candidate? {
        layers[layer].candidates.first { $0.bits == bits }
    }

    /// Totals of an assignment; nil if some width is not a candidate of its layer.
    public func evaluate(bits: [Int]) -> AllocationTotals? {
        guard bits.count == layers.count else { return nil }
        var totals = AllocationTotals(omega: 0, sizeBits: 0, bops: 0, latency: hasLatencyTable ? 0 : nil)
        for (layer, b) in bits.enumerated() {
            guard let c = candidate(layer: layer, bits: b) else { return nil }
            totals.omega += c.omega
            totals.sizeBits += c.sizeBits
            totals.bops = c.bops.flatMap { x in totals.bops.map { $0 + x } }
            totals.latency = c.latency.flatMap { x in totals.latency.map { $0 + x } }
        }
        return totals
    }

    /// The knapsack over groups with the given cost dimensions and capacities; choice j of item g
    /// is `groupBits(g)[j]`. `value` overrides Ω (used to minimise one budget under the others).
    func knapsack(kinds: [CostKind], capacities: [Double], value: CostKind? = nil) -> KnapsackInstance {
        let items: [[KnapsackChoice]] = groups.map { members in
            let widths = layers[members[0]].candidates.map(\.bits)
            return widths.map { b in
                var omega = 0.0
                var weights = [Double](repeating: 0, count: kinds.count)
                var objective = 0.0
                for layer in members {
                    let c = candidate(layer: layer, bits: b)!   // every member has the group's widths
                    omega += c.omega
                    for (d, kind) in kinds.enumerated() { weights[d] += cost(kind, c) ?? 0 }
                    if let value { objective += cost(value, c) ?? 0 }
                }
                return KnapsackChoice(value: value == nil ? omega : objective, weights: weights)
            }
        }
        return KnapsackInstance(items: items, capacities: capacities)
    }

    /// Bits per layer from a knapsack selection (one local choice per group).
    func bits(from selection: [Int]) -> [Int] {
        var bits = [Int](repeating: 0, count: layers.count)
        for (g, members) in groups.enumerated() {
            let b = groupBits(g)[selection[g]]
            for layer in members { bits[layer] = b }
        }
        return bits
    }
}
