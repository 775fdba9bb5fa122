import Foundation

/// plan.json (Protocols/plan.schema.json): the chosen width per layer with its Ω and costs,
/// totals, each budget with how tight it is, the solver and whether optimality is proven, and
/// the digests of the inputs. JSON keys are the snake_case forms of these property names.
/// Later stages (quantization) add fields to layer entries; readers ignore unknown fields.
public struct Plan: Codable, Sendable, Equatable {
    public static let formatName = "hutch.plan"
    public static let currentVersion = 1

    public var format: String
    public var version: Int
    /// "sha256:…" of the sensitivity.json bytes the plan was solved from.
    public var sensitivityDigest: String
    /// The model digest recorded in that sensitivity file's job.
    public var modelDigest: String
    public var objective: String
    /// The activation width (with `--act-bits`, the widest candidate; each layer's own is in `layers`).
    public var activationBits: Int
    public var candidateBits: [Int]
    /// The candidate activation widths of a joint allocation (`--act-bits` with several); nil otherwise.
    public var activationCandidateBits: [Int]?
    public var solver: SolverInfo
    public var budgets: [BudgetEntry]
    public var totals: Totals
    public var layers: [LayerEntry]

    public struct SolverInfo: Codable, Sendable, Equatable {
        /// "exact" or "greedy".
        public var name: String
        public var algorithm: String
        public var provenOptimal: Bool
        /// Proven lower bound on the optimal total Ω.
        public var lowerBound: Double
        /// (Ω − lower bound) / Ω; 0 when proven optimal.
        public var relativeGap: Double
        public var work: Int
    }

    public struct BudgetEntry: Codable, Sendable, Equatable {
        /// "size" (bits), "bops" (bit operations per example) or "latency" (ms).
        public var kind: String
        public var unit: String
        /// The flag as given, e.g. "--size-frac 0.5".
        public var given: String
        public var limit: Double
        public var used: Double
        /// limit − used.
        public var slack: Double
        /// used / limit.
        public var utilization: Double
        /// True when no single group can move to a width with smaller Ω without exceeding this
        /// budget, i.e. this budget is what stops further improvement.
        public var binding: Bool
    }

    public struct Totals: Codable, Sendable, Equatable {
        public var omega: Double
        public var parameters: Int
        public var sizeBits: Double
        /// sizeBits / 8e6 (MB = 10^6 bytes), weights only.
        public var sizeMegabytes: Double
        public var averageBits: Double
        public var bops: Double?
        public var latencyMs: Double?
    }

    public struct LayerEntry: Codable, Sendable, Equatable {
        public var index: Int
        public var node: String
        public var weight: String
        public var weightBits: Int
        public var activationBits: Int
        public var omega: Double
        public var parameters: Int
        public var sizeBits: Double
        public var bops: Double?
        public var latencyMs: Double?
        public var pinned: Bool
        /// Node names of the other layers tied to this one (empty if none).
        public var tiedWith: [String]
        /// Joint allocation only: the Ω_act part of `omega` (0 for a layer whose input activation
        /// another, earlier layer carries) and the other layers reading the same activation.
        public var activationOmega: Double?
        public var activationSharedWith: [String]?
    }
}

extension Plan {
    public init(problem: AllocationProblem, allocation: Allocation, sensitivityDigest: String, modelDigest: String) {
        let totals = allocation.totals
        let parameters = problem.totalParameters
        format = Self.formatName
        version = Self.currentVersion
        self.sensitivityDigest = sensitivityDigest
        self.modelDigest = modelDigest
        objective = problem.objective.rawValue
        activationBits = problem.activationBits
        candidateBits = problem.candidateBits
        activationCandidateBits = problem.isJoint ? problem.activationCandidateBits : nil
        let gap = totals.omega > 0 ? max(0, (totals.omega - allocation.lowerBound) / totals.omega) : 0
        solver = SolverInfo(name: allocation.solver.rawValue, algorithm: allocation.algorithm,
                            provenOptimal: allocation.provenOptimal, lowerBound: allocation.lowerBound,
                            relativeGap: allocation.provenOptimal ? 0 : gap, work: allocation.work)
        budgets = problem.budgets.map { budget in
            let used = totals.value(budget.kind) ?? 0
            return BudgetEntry(kind: budget.kind.rawValue, unit: budget.kind.unit, given: budget.spec.description,
                               limit: budget.limit, used: used, slack: budget.limit - used,
                               utilization: budget.limit > 0 ? used / budget.limit : 0,
                               binding: problem.isBinding(budget, allocation: allocation))
        }
        self.totals = Totals(omega: totals.omega, parameters: parameters, sizeBits: totals.sizeBits,
                             sizeMegabytes: totals.sizeBits / 8e6, averageBits: totals.sizeBits / Double(parameters),
                             bops: totals.bops, latencyMs: totals.latency)
        layers = problem.layers.map { layer in
            let c = problem.candidate(layer: layer.index, bits: allocation.bits[layer.index],
                                      activationBits: allocation.activationBits[layer.index])!
            var entry = LayerEntry(index: layer.index, node: layer.node, weight: layer.weight, weightBits: c.bits,
                                   activationBits: c.activationBits, omega: c.omega, parameters: layer.parameters,
                                   sizeBits: c.sizeBits, bops: c.bops, latencyMs: problem.hasLatencyTable ? c.latency : nil,
                                   pinned: layer.pinned, tiedWith: problem.weightTies(of: layer.index).map { problem.layers[$0].node })
            if problem.isJoint {
                entry.activationOmega = c.activationOmega
                entry.activationSharedWith = problem.layers.filter { $0.index != layer.index && $0.activationValue == layer.activationValue }.map(\.node)
            }
            return entry
        }
    }

    public func encoded() throws -> Data {
        try JSONEncoder.hutchFile().encode(self)
    }

    public static func decode(_ data: Data, source: String = "plan.json") throws -> Plan {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            let plan = try decoder.decode(Plan.self, from: data)
            guard plan.format == formatName, plan.version == currentVersion else {
                throw AllocationError.invalidSensitivity("\(source): format '\(plan.format)' version \(plan.version) is not a \(formatName) version \(currentVersion) file")
            }
            return plan
        } catch let error as DecodingError {
            throw AllocationError.invalidSensitivity("\(source): \(describeDecoding(error))")
        }
    }
}

extension AllocationProblem {
    /// Whether `budget` stops every single-group move to a choice with smaller Ω.
    func isBinding(_ budget: Budget, allocation: Allocation) -> Bool {
        var stops = false
        let used = evaluate(bits: allocation.bits, activationBits: allocation.activationBits)!.value(budget.kind) ?? 0
        for (g, members) in groups.enumerated() {
            let current = members.map { candidate(layer: $0, bits: allocation.bits[$0], activationBits: allocation.activationBits[$0])! }
            let currentOmega = current.reduce(0.0) { $0 + $1.omega }
            let currentCost = current.reduce(0.0) { $0 + (cost(budget.kind, $1) ?? 0) }
            for j in choices[g].indices {
                let other = choiceCandidates(group: g, choice: j)
                guard other != current else { continue }
                let omega = other.reduce(0.0) { $0 + $1.omega }
                guard omega < currentOmega else { continue }
                let cost = other.reduce(0.0) { $0 + (self.cost(budget.kind, $1) ?? 0) }
                if Knapsack.fits(used - currentCost + cost, budget.limit) { return false }
                stops = true
            }
        }
        return stops
    }
}
