/// Turning sensitivity.json and a request into a problem: candidate sets, pins, ties, Ω, costs,
/// budgets, each check with a one-line error that names the layer or option.
extension AllocationProblem {
    public init(report: SensitivityReport, request: AllocationRequest, source: String = "sensitivity.json") throws {
        let count = report.layers.count
        let global = try Self.checkedBits(request.bits, what: "--bits")
        guard (1 ... 16).contains(request.activationBits) else {
            throw AllocationError.invalidRequest("--activation-bits must be in 1...16, got \(request.activationBits)")
        }
        let resolve = { (selector: LayerSelector, option: String) throws -> Int in
            try Self.resolve(selector, in: report, option: option)
        }

        // Candidate widths per layer, then pins.
        var widths = [[Int]](repeating: global, count: count)
        for (selector, bits) in request.layerBits {
            widths[try resolve(selector, "--layer-bits")] = try Self.checkedBits(bits, what: "--layer-bits \(selector)")
        }
        var pinnedBits = [Int?](repeating: nil, count: count)
        for pin in request.pins {
            let layer = try resolve(pin.layer, "--pin")
            let bits = pin.bits ?? widths[layer].last!
            guard (1 ... 16).contains(bits) else {
                throw AllocationError.invalidRequest("--pin \(pin.layer)=\(bits): bit widths must be in 1...16")
            }
            if let other = pinnedBits[layer], other != bits {
                throw AllocationError.invalidRequest("--pin: layer '\(report.layers[layer].node)' is pinned to both \(other) and \(bits) bits")
            }
            pinnedBits[layer] = bits
            widths[layer] = [bits]
        }

        // Ties: union-find over tie_group (auto) and explicit groups.
        var parent = Array(0 ..< count)
        func root(_ x: Int) -> Int {
            var x = x
            while parent[x] != x { parent[x] = parent[parent[x]]; x = parent[x] }
            return x
        }
        func union(_ a: Int, _ b: Int) { let (ra, rb) = (root(a), root(b)); if ra != rb { parent[max(ra, rb)] = min(ra, rb) } }
        if request.ties.auto {
            var firstOfGroup: [String: Int] = [:]
            for layer in report.layers {
                guard let group = layer.tieGroup else { continue }
                if let first = firstOfGroup[group] { union(first, layer.index) } else { firstOfGroup[group] = layer.index }
            }
        }
        for group in request.ties.groups {
            guard group.count >= 2 else {
                throw AllocationError.invalidRequest("--tie: '\(group.map(\.description).joined(separator: "="))' needs at least two layers joined by '='")
            }
            let members = try group.map { try resolve($0, "--tie") }
            for member in members.dropFirst() { union(members[0], member) }
        }
        var groupOf = [Int](repeating: -1, count: count)
        var groups: [[Int]] = []
        var rootToGroup: [Int: Int] = [:]
        for layer in 0 ..< count {
            let r = root(layer)
            if let g = rootToGroup[r] { groups[g].append(layer) } else {
                rootToGroup[r] = groups.count
                groups.append([layer])
            }
            groupOf[layer] = rootToGroup[r]!
        }
        for members in groups where members.count > 1 {
            let common = members.dropFirst().reduce(Set(widths[members[0]])) { $0.intersection(widths[$1]) }
            guard !common.isEmpty else {
                let detail = members.map { "'\(report.layers[$0].node)' \(widths[$0])" }.joined(separator: ", ")
                throw AllocationError.invalidRequest("tied layers have no common candidate width: \(detail); change --pin, --layer-bits or --tie")
            }
            for layer in members { widths[layer] = common.sorted() }
        }

        // Ω and costs of every candidate.
        let hasErrors = report.layers.contains { !($0.quantizationError ?? [:]).isEmpty }
        if request.objective.needsQuantizationErrors && !hasErrors {
            throw AllocationError.missingQuantizationErrors(
                "\(source) has no quantization errors (layers[].quantization_error), which --objective \(request.objective.rawValue) needs; "
                + "`hutch plan --model` cannot compute them yet (that comes with the quantizer), so re-run `hutch trace` once it writes them, or use --objective trace")
        }
        let needsBOPs = request.budgets.contains { $0.kind == .bops }
        let needsLatency = request.budgets.contains { $0.kind == .latency }
        if needsLatency && request.latencyTable == nil {
            throw AllocationError.invalidRequest("--latency-ms needs --latency-table FILE (CSV or JSON: layer,bits,milliseconds)")
        }
        var layers: [Layer] = []
        for (index, entry) in report.layers.enumerated() {
            if needsBOPs && entry.macs == nil {
                throw AllocationError.invalidSensitivity("\(source): layers[\(index)] ('\(entry.node)') has no macs, which a BOPs budget needs")
            }
            var candidates: [Candidate] = []
            for b in widths[index] {
                guard let omega = request.objective.perturbation(entry, bits: b) else {
                    if request.objective == .measured {
                        throw AllocationError.missingQuantizationErrors("\(source): layers[\(index)] ('\(entry.node)') has no measured_loss_increase for \(b) bits, which --objective measured needs; run `hutch trace --measured` with --bits including \(b)")
                    }
                    if request.objective == .eigenvalue && entry.topEigenvalue == nil {
                        throw AllocationError.missingQuantizationErrors("\(source): layers[\(index)] ('\(entry.node)') has no top_eigenvalue, which --objective eigenvalue needs; run `hutch trace --eigen` or use --objective hawq-v3")
                    }
                    let have = (entry.quantizationError ?? [:]).keys.compactMap(Int.init).sorted()
                    throw AllocationError.missingQuantizationErrors("\(source): layers[\(index)] ('\(entry.node)') has no quantization_error for \(b) bits (it has \(have)); choose --bits among those or recompute the errors")
                }
                var latency: Double?
                if let table = request.latencyTable {
                    latency = table.milliseconds(layer: entry.node, bits: b) ?? table.milliseconds(layer: entry.weight, bits: b)
                    if latency == nil && needsLatency {
                        throw AllocationError.invalidLatencyTable("latency table has no entry for layer '\(entry.node)' at \(b) bits")
                    }
                }
                let macs = entry.macs.map(Double.init)
                candidates.append(Candidate(bits: b, omega: omega, sizeBits: Double(entry.parameters) * Double(b),
                                            bops: macs.map { $0 * Double(b) * Double(request.activationBits) },
                                            latency: latency))
            }
            layers.append(Layer(index: index, node: entry.node, weight: entry.weight, parameters: entry.parameters,
                                macs: entry.macs, candidates: candidates, pinned: pinnedBits[index] != nil,
                                group: groupOf[index]))
        }
        let latencyComplete = request.latencyTable != nil && layers.allSatisfy { $0.candidates.allSatisfy { $0.latency != nil } }

        // Budgets in absolute units.
        var budgets: [Budget] = []
        for spec in request.budgets {
            if let other = budgets.first(where: { $0.kind == spec.kind }) {
                throw AllocationError.invalidRequest("two \(spec.kind.label) budgets given (\(other.spec) and \(spec)); give one")
            }
            let limit: Double
            switch spec {
            case .sizeMegabytes(let mb):
                guard mb > 0 else { throw AllocationError.invalidRequest("--size-mb must be positive, got \(mb)") }
                limit = mb * 8e6
            case .averageBits(let average):
                guard average > 0 else { throw AllocationError.invalidRequest("--avg-bits must be positive, got \(average)") }
                limit = average * Double(report.layers.reduce(0) { $0 + $1.parameters })
            case .sizeFraction(let f):
                guard (0 ... 1).contains(f) else { throw AllocationError.invalidRequest("--size-frac must be in [0, 1], got \(f)") }
                let lowest = layers.reduce(0.0) { $0 + $1.candidates.first!.sizeBits }
                let highest = layers.reduce(0.0) { $0 + $1.candidates.last!.sizeBits }
                limit = (lowest + f * (highest - lowest)).rounded(.down)
            case .gigaBOPs(let g):
                guard g > 0 else { throw AllocationError.invalidRequest("--bops-g must be positive, got \(g)") }
                limit = g * 1e9
            case .latencyMilliseconds(let ms):
                guard ms > 0 else { throw AllocationError.invalidRequest("--latency-ms must be positive, got \(ms)") }
                limit = ms
            }
            budgets.append(Budget(kind: spec.kind, limit: limit, spec: spec))
        }

        self.layers = layers
        self.groups = groups
        self.budgets = budgets
        self.objective = request.objective
        self.activationBits = request.activationBits
        self.candidateBits = global
        self.hasLatencyTable = latencyComplete
    }

    static func checkedBits(_ bits: [Int], what: String) throws -> [Int] {
        guard !bits.isEmpty else { throw AllocationError.invalidRequest("\(what): the candidate bit widths are empty; give at least one of 1...16") }
        for b in bits where !(1 ... 16).contains(b) {
            throw AllocationError.invalidRequest("\(what): bit width \(b) is outside 1...16")
        }
        return Array(Set(bits)).sorted()
    }

    static func resolve(_ selector: LayerSelector, in report: SensitivityReport, option: String) throws -> Int {
        switch selector {
        case .first: return 0
        case .last: return report.layers.count - 1
        case .name(let name):
            if let layer = report.layers.first(where: { $0.node == name }) ?? report.layers.first(where: { $0.weight == name }) {
                return layer.index
            }
            let examples = report.layers.prefix(3).map { "'\($0.node)'" }.joined(separator: ", ")
            throw AllocationError.invalidRequest("\(option): unknown layer '\(name)'; use first, last, or a node or weight name from sensitivity.json (e.g. \(examples))")
        }
    }
}
