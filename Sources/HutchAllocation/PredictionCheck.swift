import Foundation

/// `hutch plan --check`: where the quadratic model fails. For every layer and width with a
/// measured loss increase, the second-order prediction ½·Tr(H_ll)/n_l·‖Q_b(W_l) − W_l‖² (half
/// the hawq-v3 Ω) beside the measured increase (`hutch trace --measured`), and for the plan the
/// sums of both over its chosen widths (the measured sum adds single-layer increases, so it
/// leaves out how layers interact).
public struct PredictionCheck: Sendable {
    public struct Row: Sendable, Equatable {
        public var node: String
        public var bits: Int
        /// nil when the layer has no quantization error at that width.
        public var predicted: Double?
        public var measured: Double
        public var chosen: Bool
    }

    public var rows: [Row]
    /// The measured loss change with every layer at the plan's width at once, when measured.
    public var planMeasured: Double?

    /// `chosenBits`: the plan's width per layer, canonical order.
    public init(report: SensitivityReport, chosenBits: [Int], source: String) throws {
        rows = []
        for (index, layer) in report.layers.enumerated() {
            guard let measured = layer.measuredLossIncrease, !measured.isEmpty else {
                throw AllocationError.missingQuantizationErrors("\(source): layers[\(index)] ('\(layer.node)') has no measured_loss_increase, which --check compares with; run `hutch trace --measured`")
            }
            for (key, value) in measured.sorted(by: { Int($0.key)! < Int($1.key)! }) {
                let bits = Int(key)!
                rows.append(Row(node: layer.node, bits: bits, predicted: Objective.hawqV3.perturbation(layer, bits: bits).map { $0 / 2 },
                                measured: value, chosen: index < chosenBits.count && chosenBits[index] == bits))
            }
        }
    }

    /// Lines of a fixed-width table, the plan's rows marked with '*', then the plan's sums.
    public var lines: [String] {
        func number(_ x: Double?) -> String { x.map { String(format: "%+.5f", $0) } ?? "–" }
        var out = ["predicted (½·Tr/n·‖Q(W)−W‖²) vs measured loss change per layer and width (* = the plan's width):"]
        for row in rows {
            let ratio = row.predicted.flatMap { p in p != 0 ? String(format: "%.2f", row.measured / p) : nil } ?? "–"
            out.append("  \(row.chosen ? "*" : " ") \(row.node) \(row.bits) bits: predicted \(number(row.predicted)) measured \(number(row.measured)) (measured/predicted \(ratio))")
        }
        let chosen = rows.filter(\.chosen)
        let predicted = chosen.allSatisfy { $0.predicted != nil } ? chosen.reduce(0) { $0 + $1.predicted! } : nil
        var plan = "  plan: predicted \(number(predicted)), measured (sum of single-layer increases) \(number(chosen.reduce(0) { $0 + $1.measured }))"
        if let planMeasured { plan += ", measured with all layers at once \(number(planMeasured))" }
        out.append(plan)
        return out
    }
}
