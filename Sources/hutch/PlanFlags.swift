import Foundation
import HutchAllocation
import HutchJobs

/// The flags of `hutch plan` that describe the allocation (candidates, budgets, objective, solver,
/// pins, ties); `hutch run` and `hutch coordinator` take them too.
enum PlanFlags {
    static let flags: [Arguments.Flag] = [
        .option("bits", "LIST", "candidate weight widths, comma separated, each in 1...16 (default 2,3,4,5,6,8)"),
        .option("layer-bits", "SPEC", "per-layer candidates: NAME=4/6/8,NAME2=8 (NAME: first, last, node or weight name)"),
    ] + budgets.map(\.flag) + [
        .option("latency-table", "PATH", "CSV or JSON table layer,bits,milliseconds"),
        .option("objective", "NAME", "hawq-v3 (Tr/n·‖Q(W)−W‖², default), eigenvalue (λmax·‖Q(W)−W‖²), trace (Tr·4^−b) or measured (loss increase, `hutch trace --measured`)"),
        .option("solver", "NAME", "exact (proven optimal, default) or greedy (convex-hull MCKP)"),
        .option("pin", "LIST", "fix widths: first,last=8,NODE=4 (no =B: the layer's highest candidate; with --act-bits also its activation, "
                + "NODE=w4a8 fixes both, NODE=a8 the activation only)"),
        .option("tie", "SPEC", "equal widths: auto (tie_group in sensitivity.json, default), none, or A=B,C=D=E (may include auto)"),
        .option("activation-bits", "N", "activation width for BOPs (default 8)"),
        .option("act-bits", "LIST", "candidate activation widths, e.g. 4,8: each layer chooses its weight and input-activation widths together "
                + "(objective Ω_w + Ω_act; needs hutch trace --activations; default: the one --activation-bits width; "
                + "hutch run and coordinator take several with --activations)"),
    ]

    /// The budget flags and the budget each makes, in help order: one list for the help,
    /// `budgetGiven` and `request`.
    private static let budgets: [(flag: Arguments.Flag, budget: @Sendable (Double) -> BudgetSpec)] = [
        (.option("size-mb", "X", "weight size budget in MB (10^6 bytes)"), BudgetSpec.sizeMegabytes),
        (.option("avg-bits", "X", "weight size budget as average bits per parameter"), BudgetSpec.averageBits),
        (.option("size-frac", "F", "weight size budget: F in [0,1] between all-lowest and all-highest widths"), BudgetSpec.sizeFraction),
        (.option("bops-g", "X", "BOPs budget in 10^9 bit operations per example (MACs × weight bits × activation bits)"), BudgetSpec.gigaBOPs),
        (.option("latency-ms", "X", "latency budget in ms (needs --latency-table)"), BudgetSpec.latencyMilliseconds),
    ]

    /// Whether a budget is given: a cluster job then plans and quantizes too.
    static func budgetGiven(_ arguments: Arguments) -> Bool {
        budgets.contains { arguments.has($0.flag.name) }
    }

    /// The allocation flags as given, which a cluster job records in job.json (--bits is a trace flag there).
    static func given(_ arguments: Arguments) -> [String: String] {
        var given: [String: String] = [:]
        for flag in flags where flag.name != "bits" && arguments.has(flag.name) {
            given[flag.name] = arguments.string(flag.name) ?? "true"
        }
        return given
    }

    static func solver(_ arguments: Arguments) throws -> SolverKind {
        try arguments.choice("solver", "exact or greedy") ?? .exact
    }

    /// The allocation request the flags describe (a latency table is read here).
    static func request(_ arguments: Arguments) throws -> AllocationRequest {
        var request = AllocationRequest()
        if let text = arguments.string("bits") { request.bits = try parseBits(text, separator: ",", flag: "--bits") }
        if let text = arguments.string("layer-bits") {
            request.layerBits = try text.split(separator: ",").map { entry in
                let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, !parts[0].isEmpty else {
                    throw CommandFailure(.usage, "--layer-bits entry '\(entry)' must look like NAME=4/6/8")
                }
                return (LayerSelector(parts[0]), try parseBits(parts[1], separator: "/", flag: "--layer-bits \(parts[0])"))
            }
        }
        if let objective: Objective = try arguments.choice("objective", "one of " + Objective.allCases.map(\.rawValue).joined(separator: ", ")) {
            request.objective = objective
        }
        for (flag, budget) in budgets {
            if let x = try arguments.double(flag.name) { request.budgets.append(budget(x)) }
        }
        if let text = arguments.string("pin") {
            request.pins = try text.split(separator: ",").map { entry in
                let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
                guard !parts[0].isEmpty else { throw CommandFailure(.usage, "--pin entry '\(entry)' has no layer name") }
                guard parts.count == 2 else { return Pin(layer: LayerSelector(parts[0])) }
                return try parsePin(LayerSelector(parts[0]), parts[1], entry: String(entry))
            }
        }
        if let text = arguments.string("tie") {
            var spec = TieSpec(auto: false, groups: [])
            for entry in text.split(separator: ",").map(String.init) {
                switch entry {
                case "auto": spec.auto = true
                case "none": break
                default:
                    spec.groups.append(entry.split(separator: "=", omittingEmptySubsequences: false).map { LayerSelector(String($0)) })
                }
            }
            if text.split(separator: ",").contains("none") && (spec.auto || !spec.groups.isEmpty) {
                throw CommandFailure(.usage, "--tie none cannot be combined with other ties")
            }
            request.ties = spec
        }
        if let bits = try arguments.int("activation-bits", range: 1 ... 16) { request.activationBits = bits }
        if let text = arguments.string("act-bits") {
            guard !arguments.has("activation-bits") else {
                throw CommandFailure(.usage, "give --act-bits or --activation-bits, not both (--act-bits 8 is --activation-bits 8)")
            }
            request.activationCandidates = try parseBits(text, separator: ",", flag: "--act-bits")
        }
        if let path = arguments.string("latency-table") {
            request.latencyTable = try LatencyTable.parse(try readFile(path, what: "latency table"), source: path)
        }
        return request
    }

    /// `B` (weight bits), `wBaA` (weight and activation bits) or `aA` (activation bits only).
    private static func parsePin(_ layer: LayerSelector, _ text: String, entry: String) throws -> Pin {
        if let b = Int(text) { return Pin(layer: layer, bits: b) }
        let fail = CommandFailure(.usage, "--pin \(entry): '\(text)' is not a bit width; give B, wBaA or aA (e.g. 4, w4a8, a8)")
        guard let a = text.firstIndex(of: "a"), let activation = Int(text[text.index(after: a)...]) else { throw fail }
        let head = text[..<a]
        if head.isEmpty { return Pin(layer: layer, activationBits: activation, weight: false) }
        guard head.first == "w", let weight = Int(head.dropFirst()) else { throw fail }
        return Pin(layer: layer, bits: weight, activationBits: activation)
    }

    private static func parseBits(_ text: String, separator: Character, flag: String) throws -> [Int] {
        try text.split(separator: separator, omittingEmptySubsequences: false).map { part in
            guard let b = Int(part.trimmingCharacters(in: .whitespaces)) else {
                throw CommandFailure(.usage, "\(flag): '\(part)' is not a bit width; give integers in 1...16 separated by '\(separator)'")
            }
            return b
        }
    }
}
