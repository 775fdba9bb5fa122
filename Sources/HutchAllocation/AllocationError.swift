/// Every way bit allocation can refuse its input; each description is one line naming the
/// file, field or layer and what to do. The CLI maps the cases to exit codes.
public enum AllocationError: Error, Equatable, CustomStringConvertible {
    /// sensitivity.json is not valid JSON, misses a field or has an invalid value.
    case invalidSensitivity(String)
    /// The layers lack the quantization errors the objective needs.
    case missingQuantizationErrors(String)
    /// A request option (bits, pins, ties, budgets, objective) is malformed or names unknown layers.
    case invalidRequest(String)
    /// The latency table is malformed or lacks an entry a candidate needs.
    case invalidLatencyTable(String)
    /// No allocation satisfies the budgets.
    case infeasible(InfeasibilityReport)

    public var description: String {
        switch self {
        case .invalidSensitivity(let message), .missingQuantizationErrors(let message),
             .invalidRequest(let message), .invalidLatencyTable(let message):
            return message
        case .infeasible(let report):
            return report.description
        }
    }
}

/// Why budgets cannot be met: per budget its limit, the smallest value it can take on its own
/// (every group at its lightest candidate, pins and ties respected) and, with several budgets,
/// the smallest value it can take while the other budgets hold.
public struct InfeasibilityReport: Sendable, Equatable, CustomStringConvertible {
    public struct Entry: Sendable, Equatable {
        public var budget: Budget
        public var minimumAlone: Double
        /// Nil with a single budget, or when the other budgets are infeasible among themselves.
        public var minimumWithOthers: Double?
    }
    public var entries: [Entry]

    public var description: String {
        let parts = entries.map { entry -> String in
            let budget = entry.budget
            // in the unit the budget was asked in: average bits for --avg-bits, MB, GBOPs or ms
            // otherwise (--size-frac is a fraction of a range the message cannot restate: MB)
            let format: (Double) -> String
            var text: String
            if case .averageBits(let average) = budget.spec, budget.limit > 0 {
                // limit = average × parameters, so a size in bits is value × average / limit bits per weight
                format = { Self.averageBits($0 * average / budget.limit) + " bits" }
                text = "average weight width ≤ \(formatNumber(average)) bits "
            } else {
                format = budget.kind.format
                text = "\(budget.kind.label) ≤ \(format(budget.limit)) "
            }
            text += "(smallest feasible alone \(format(entry.minimumAlone))"
            if entries.count > 1 {
                if let with = entry.minimumWithOthers {
                    text += ", with the other budgets \(format(with))"
                } else {
                    text += ", the other budgets alone are infeasible"
                }
            }
            return text + ")"
        }
        return "no bit allocation fits the budgets: " + parts.joined(separator: "; ") + "; raise a budget to at least its smallest feasible value"
    }

    /// Average bits rounded up in the fourth decimal (less the float noise of the division), so
    /// that the value printed as smallest feasible is feasible when given back to --avg-bits.
    static func averageBits(_ value: Double) -> String {
        formatNumber((value * 1e4 - 1e-6).rounded(.up) / 1e4)
    }
}
