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

        // Candidate widths per layer (weights, then input activations), then pins.
        var widths = [[Int]](repeating: global, count: count)
        for (selector, bits) in request.layerBits {
            widths[try resolve(selector, "--layer-bits")] = try Self.checkedBits(bits, what: "--layer-bits \(selector)")
        }
        let activationGlobal = try Self.checkedBits(request.activationCandidates ?? [request.activationBits], what: "--act-bits")
        let joint = activationGlobal.count > 1
        if joint { try Self.checkActivationSensitivities(report, source: source) }
        var activationWidths = report.layers.map { $0.isEmbedding ? [activationGlobal.last!] : activationGlobal }
        var pinnedBits = [Int?](repeating: nil, count: count)
        var pinnedActivation = [Int?](repeating: nil, count: count)
        for pin in request.pins {
            let layer = try resolve(pin.layer, "--pin")
            if pin.weight {
                try Self.pin(pin.bits ?? widths[layer].last!, as: "\(pin.layer)=", of: "layer '\(report.layers[layer].node)'",
                             at: layer, pinned: &pinnedBits, widths: &widths)
            }
            guard pin.pinsActivation else { continue }
            let bits = pin.activationBits ?? activationWidths[layer].last!
            guard joint || bits == activationGlobal[0] else {
                throw AllocationError.invalidRequest("--pin \(pin.layer)=a\(bits): activations are all \(activationGlobal[0]) bits; give --act-bits with several widths to choose them per layer")
            }
            try Self.pin(bits, as: "\(pin.layer)=a", of: "the activation of layer '\(report.layers[layer].node)'",
                         at: layer, pinned: &pinnedActivation, widths: &activationWidths)
        }

        // Weight ties: tie_group (auto) and explicit groups.
        var weightSets = UnionFind(count: count)
        if request.ties.auto {
            var firstOfGroup: [String: Int] = [:]
            for layer in report.layers {
                guard let group = layer.tieGroup else { continue }
                if let first = firstOfGroup[group] { weightSets.union(first, layer.index) } else { firstOfGroup[group] = layer.index }
            }
        }
        for group in request.ties.groups {
            guard group.count >= 2 else {
                throw AllocationError.invalidRequest("--tie: '\(group.map(\.description).joined(separator: "="))' needs at least two layers joined by '='")
            }
            let members = try group.map { try resolve($0, "--tie") }
            for member in members.dropFirst() { weightSets.union(members[0], member) }
        }
        let (weightGroups, weightGroupOf) = weightSets.groups()
        try Self.intersect(&widths, over: weightGroups, report: report, what: "tied layers", change: "--pin, --layer-bits or --tie")
        // One activation tensor has one width: layers reading it share their activation choice.
        let activationGroups = joint ? Self.sharedActivations(report) : (0 ..< count).map { [$0] }
        try Self.intersect(&activationWidths, over: activationGroups, report: report,
                           what: "layers reading one activation", change: "--pin")
        // Ω_act is one term per activation tensor: the first layer reading it carries it.
        let carriesActivation = Set(activationGroups.map { $0[0] }.filter { !report.layers[$0].isEmbedding })

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
                for a in activationWidths[index] {
                    var latency: Double?
                    if let table = request.latencyTable {
                        latency = table.milliseconds(layer: entry.node, bits: b, activationBits: a)
                            ?? table.milliseconds(layer: entry.weight, bits: b, activationBits: a)
                        if latency == nil && needsLatency {
                            throw AllocationError.invalidLatencyTable("latency table has no entry for layer '\(entry.node)' at \(b) bits" + (joint ? " (activations \(a) bits)" : ""))
                        }
                    }
                    var activationOmega = 0.0
                    if joint && carriesActivation.contains(index) {
                        activationOmega = try Self.activationPerturbation(entry, bits: a, source: source)
                    }
                    let macs = entry.macs.map(Double.init)
                    candidates.append(Candidate(bits: b, activationBits: a, omega: joint ? omega + activationOmega : omega,
                                                activationOmega: activationOmega, sizeBits: Double(entry.parameters) * Double(b),
                                                bops: macs.map { $0 * Double(b) * Double(a) }, latency: latency))
                }
            }
            layers.append(Layer(index: index, node: entry.node, weight: entry.weight, parameters: entry.parameters,
                                macs: entry.macs, candidates: candidates,
                                pinned: pinnedBits[index] != nil || (joint && pinnedActivation[index] != nil),
                                group: -1, activationValue: joint ? entry.activation?.value : nil,
                                weightGroup: weightGroupOf[index]))
        }
        let (groups, choices) = try Self.groupChoices(layers: &layers, weightGroups: weightGroups,
                                                     activationGroups: activationGroups, source: source)
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
        self.weightGroups = weightGroups
        self.choices = choices
        self.activationCandidateBits = activationGlobal
        self.budgets = budgets
        self.objective = request.objective
        self.activationBits = request.activationCandidates == nil ? request.activationBits : activationGlobal.last!
        self.candidateBits = global
        self.hasLatencyTable = latencyComplete
    }

    /// One side of a pin (the weight's or the activation's width): in 1...16, the same as any
    /// earlier pin of that side, then the layer's only candidate. `spelling` is the pin as given
    /// up to the width, `what` names the side in the message.
    private static func pin(_ bits: Int, as spelling: String, of what: String, at layer: Int,
                            pinned: inout [Int?], widths: inout [[Int]]) throws {
        guard (1 ... 16).contains(bits) else {
            throw AllocationError.invalidRequest("--pin \(spelling)\(bits): bit widths must be in 1...16")
        }
        if let other = pinned[layer], other != bits {
            throw AllocationError.invalidRequest("--pin: \(what) is pinned to both \(other) and \(bits) bits")
        }
        pinned[layer] = bits
        widths[layer] = [bits]
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
