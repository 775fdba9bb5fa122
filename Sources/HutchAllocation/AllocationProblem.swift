/// A validated allocation problem: per layer its candidate (weight, activation) widths with Ω and
/// costs, the groups (every layer in exactly one group; a group's choices assign every member a
/// candidate consistent with its ties), and budgets in absolute units. Built from
/// sensitivity.json and a request; every solver works on it.
public struct AllocationProblem: Sendable {
    public struct Candidate: Sendable, Equatable {
        /// Weight bits.
        public var bits: Int
        /// Input activation bits (the request's single width unless the allocation is joint).
        public var activationBits: Int
        /// Ω_w, plus Ω_act when the allocation is joint and this layer carries its activation's term.
        public var omega: Double
        /// The Ω_act part of `omega` (0 unless joint and this layer carries it).
        public var activationOmega: Double
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
        /// The (weight, activation) widths the layer may take, ascending by weight then activation.
        public var candidates: [Candidate]
        public var pinned: Bool
        /// Index into `groups`.
        public var group: Int
        /// The input activation's value name when the allocation is joint.
        public var activationValue: String?
        /// Index into `weightGroups`.
        public var weightGroup: Int
    }

    public let layers: [Layer]
    /// Tied layers (indices, ascending), groups ordered by their first layer. Weight ties and,
    /// in a joint allocation, layers reading one activation end up in one group.
    public let groups: [[Int]]
    /// Layers sharing one weight width (ties), like `groups` but without activation sharing.
    public let weightGroups: [[Int]]
    /// Per group, its choices in order; a choice gives each member (in `groups` order) the index
    /// of its candidate. Without activation choices: the group's common weight widths, ascending.
    public let choices: [[[Int]]]
    /// Candidate activation widths; more than one makes the allocation joint.
    public let activationCandidateBits: [Int]
    public let budgets: [Budget]
    public let objective: Objective
    public let activationBits: Int
    /// The request's global candidate widths (uniform-precision comparison points use these).
    public let candidateBits: [Int]
    public let hasLatencyTable: Bool

    /// The other layers whose weights are tied to `layer`.
    public func weightTies(of layer: Int) -> [Int] { weightGroups[layers[layer].weightGroup].filter { $0 != layer } }

    /// Whether each layer chooses its activation width too.
    public var isJoint: Bool { activationCandidateBits.count > 1 }

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
    /// The candidate of `layer` at `bits` (and `activationBits`; nil: its first at `bits`), if allowed.
    public func candidate(layer: Int, bits: Int, activationBits: Int? = nil) -> Candidate? {
        layers[layer].candidates.first { $0.bits == bits && (activationBits == nil || $0.activationBits == activationBits) }
    }

    /// Totals of an assignment; nil if some width pair is not a candidate of its layer. Without
    /// `activationBits` each layer takes its first candidate at its weight width.
    public func evaluate(bits: [Int], activationBits: [Int]? = nil) -> AllocationTotals? {
        guard bits.count == layers.count, activationBits.map({ $0.count == layers.count }) ?? true else { return nil }
        var totals = AllocationTotals(omega: 0, sizeBits: 0, bops: 0, latency: hasLatencyTable ? 0 : nil)
        for (layer, b) in bits.enumerated() {
            guard let c = candidate(layer: layer, bits: b, activationBits: activationBits?[layer]) else { return nil }
            totals.omega += c.omega
            totals.sizeBits += c.sizeBits
            totals.bops = c.bops.flatMap { x in totals.bops.map { $0 + x } }
            totals.latency = c.latency.flatMap { x in totals.latency.map { $0 + x } }
        }
        return totals
    }

    /// The candidates choice j of group g gives its members, in member order.
    public func choiceCandidates(group g: Int, choice j: Int) -> [Candidate] {
        zip(groups[g], choices[g][j]).map { layers[$0].candidates[$1] }
    }

    /// The knapsack over groups with the given cost dimensions and capacities; choice j of item g
    /// is `choices[g][j]`. `value` overrides Ω (used to minimise one budget under the others).
    func knapsack(kinds: [CostKind], capacities: [Double], value: CostKind? = nil) -> KnapsackInstance {
        let items: [[KnapsackChoice]] = groups.indices.map { g in
            choices[g].indices.map { j in
                var omega = 0.0
                var weights = [Double](repeating: 0, count: kinds.count)
                var objective = 0.0
                for c in choiceCandidates(group: g, choice: j) {
                    omega += c.omega
                    for (d, kind) in kinds.enumerated() { weights[d] += cost(kind, c) ?? 0 }
                    if let value { objective += cost(value, c) ?? 0 }
                }
                return KnapsackChoice(value: value == nil ? omega : objective, weights: weights)
            }
        }
        return KnapsackInstance(items: items, capacities: capacities)
    }

    /// Weight and activation bits per layer from a knapsack selection (one local choice per group).
    func widths(from selection: [Int]) -> (bits: [Int], activationBits: [Int]) {
        var bits = [Int](repeating: 0, count: layers.count)
        var activationBits = bits
        for (g, members) in groups.enumerated() {
            for (layer, c) in zip(members, choiceCandidates(group: g, choice: selection[g])) {
                (bits[layer], activationBits[layer]) = (c.bits, c.activationBits)
            }
        }
        return (bits, activationBits)
    }
}
