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
            var text = "\(entry.budget.kind.label) ≤ \(entry.budget.kind.format(entry.budget.limit)) "
            text += "(smallest feasible alone \(entry.budget.kind.format(entry.minimumAlone))"
            if entries.count > 1 {
                if let with = entry.minimumWithOthers {
                    text += ", with the other budgets \(entry.budget.kind.format(with))"
                } else {
                    text += ", the other budgets alone are infeasible"
                }
            }
            return text + ")"
        }
        return "no bit allocation fits the budgets: " + parts.joined(separator: "; ") + "; raise a budget to at least its smallest feasible value"
    }
}
