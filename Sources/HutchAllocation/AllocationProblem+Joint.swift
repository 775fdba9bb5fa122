/// The joint weight + activation allocation's part of building a problem: which layers read one
/// activation, Ω_act, and each group's choices (the product of its weight-tie and shared-activation
/// widths).
extension AllocationProblem {
    /// The most choices one group may have; a group beyond it is refused rather than enumerated.
    static let maximumChoicesPerGroup = 4096

    /// Every layer must carry `activation` (trace and quantization errors) for a joint allocation,
    /// except embeddings, whose input is token ids.
    static func checkActivationSensitivities(_ report: SensitivityReport, source: String) throws {
        if let layer = report.layers.first(where: { $0.activation == nil && !$0.isEmbedding }) {
            throw AllocationError.missingQuantizationErrors("\(source): layers[\(layer.index)] ('\(layer.node)') has no activation sensitivity, which --act-bits with several widths needs; run hutch trace --activations")
        }
    }

    /// Layers grouped by the activation value they read (ascending, ordered by first layer).
    static func sharedActivations(_ report: SensitivityReport) -> [[Int]] {
        var sets = UnionFind(count: report.layers.count)
        var first: [String: Int] = [:]
        for layer in report.layers {
            guard let value = layer.activation?.value else { continue }
            if let f = first[value] { sets.union(f, layer.index) } else { first[value] = layer.index }
        }
        return sets.groups().groups
    }

    /// Ω_act(l, b) = Tr_a / n_a · ‖Q_b(a) − a‖² = Tr_a · error_b, with error_b the mean squared
    /// error per entry, so the n_a cancel; a negative Hutchinson trace counts as 0, like the weights'.
    static func activationPerturbation(_ layer: SensitivityReport.Layer, bits: Int, source: String) throws -> Double {
        let activation = layer.activation!
        guard let error = activation.quantizationError[String(bits)] else {
            let have = activation.quantizationError.keys.compactMap(Int.init).sorted()
            throw AllocationError.missingQuantizationErrors("\(source): layers[\(layer.index)] ('\(layer.node)') has no activation quantization_error for \(bits) bits (it has \(have)); choose --act-bits among those")
        }
        return max(activation.trace, 0) * error
    }

    /// Restricts every member of each group to the group's common widths.
    static func intersect(_ widths: inout [[Int]], over groups: [[Int]], report: SensitivityReport,
                          what: String, change: String) throws {
        for members in groups where members.count > 1 {
            let common = members.dropFirst().reduce(Set(widths[members[0]])) { $0.intersection(widths[$1]) }
            guard !common.isEmpty else {
                let detail = members.map { "'\(report.layers[$0].node)' \(widths[$0])" }.joined(separator: ", ")
                throw AllocationError.invalidRequest("\(what) have no common candidate width: \(detail); change \(change)")
            }
            for layer in members { widths[layer] = common.sorted() }
        }
    }

    /// The groups (weight-tie groups joined through shared activations) and each one's choices:
    /// weight ties are the outer, shared activations the inner digits, each ascending. Sets each
    /// layer's `group`.
    static func groupChoices(layers: inout [Layer], weightGroups: [[Int]], activationGroups: [[Int]],
                             source: String) throws -> (groups: [[Int]], choices: [[[Int]]]) {
        var sets = UnionFind(count: layers.count)
        for members in weightGroups + activationGroups {
            for member in members.dropFirst() { sets.union(members[0], member) }
        }
        let (groups, groupOf) = sets.groups()
        var choices: [[[Int]]] = []
        for (g, members) in groups.enumerated() {
            let weightParts = weightGroups.filter { groupOf[$0[0]] == g }
            let activationParts = activationGroups.filter { groupOf[$0[0]] == g }
            // a part's widths are its first member's (all members share them after `intersect`)
            let weightWidths = weightParts.map { Array(Set(layers[$0[0]].candidates.map(\.bits))).sorted() }
            let activationWidths = activationParts.map { Array(Set(layers[$0[0]].candidates.map(\.activationBits))).sorted() }
            let radices = (weightWidths + activationWidths).map(\.count)
            let total = radices.reduce(1) { $0 > maximumChoicesPerGroup ? $0 : $0 * $1 }
            guard total <= maximumChoicesPerGroup else {
                let names = members.prefix(3).map { "'\(layers[$0].node)'" }.joined(separator: ", ")
                throw AllocationError.invalidRequest("\(source): the layers tied with \(names) (\(members.count) in all) have more than \(maximumChoicesPerGroup) joint width choices; give fewer --bits / --act-bits or pin some of them")
            }
            var weightOf = [Int: Int](), activationOf = [Int: Int]()
            for (part, ms) in weightParts.enumerated() { for m in ms { weightOf[m] = part } }
            for (part, ms) in activationParts.enumerated() { for m in ms { activationOf[m] = part } }
            var digits = [Int](repeating: 0, count: radices.count)
            var groupChoices: [[Int]] = []
            for _ in 0 ..< total {
                groupChoices.append(members.map { m in
                    let w = weightWidths[weightOf[m]!][digits[weightOf[m]!]]
                    let a = activationWidths[activationOf[m]!][digits[weightParts.count + activationOf[m]!]]
                    return layers[m].candidates.firstIndex { $0.bits == w && $0.activationBits == a }!
                })
                // odometer: the last digit (innermost) turns fastest
                var d = radices.count - 1
                while d >= 0 {
                    digits[d] += 1
                    if digits[d] < radices[d] { break }
                    digits[d] = 0
                    d -= 1
                }
            }
            for m in members { layers[m].group = g }
            choices.append(groupChoices)
        }
        return (groups, choices)
    }
}

extension SensitivityReport.Layer {
    /// An embedding table (Protocols/README.md, "Quantizable layer"): it reads token ids, so it
    /// has no activation to quantize; a joint allocation gives it one activation width and no Ω_act.
    var isEmbedding: Bool { op == "Gather" }
}
