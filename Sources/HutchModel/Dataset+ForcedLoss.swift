/// `--loss ce|token-ce|mse` (Protocols/README.md, "Loss"): the labels' dtype and shape already
/// determine the head, so naming one is a check that the data is what the user means, refused
/// in one line when the labels hold another kind; `validate(against:)` then checks the output.
extension Dataset {
    /// This data set, whose labels must be for the head `loss` names (nil: any).
    public func requiring(loss: String?) throws -> Dataset {
        guard let loss else { return self }
        guard LossTargets.names.contains(loss) else { throw LossTargets.unknown(loss) }
        guard loss == targets.name else {
            throw ModelError.invalidData("--loss \(loss) does not fit the labels: they are \(targets.labelKind), which is loss \(targets.name) (\(LossTargets.requirement(loss)))")
        }
        return self
    }
}

extension LossTargets {
    /// The head these targets are for: ce, token-ce or mse.
    public var name: String {
        switch self {
        case .classes: "ce"
        case .tokens: "token-ce"
        case .values: "mse"
        }
    }

    /// What the labels are, for messages.
    var labelKind: String {
        switch self {
        case .classes: "integer class labels [N]"
        case .tokens(_, let t): "integer token labels [N, \(t)]"
        case .values(_, let k): "float targets [N, \(k)]"
        }
    }

    /// What the head `loss` needs, for messages.
    static func requirement(_ loss: String) -> String {
        switch loss {
        case "ce": "ce needs integer labels [N] and logits [N, C]"
        case "token-ce": "token-ce needs integer labels [N, T] and logits [N, T, V]"
        default: "mse needs float targets [N, K] and an output [N, K]"
        }
    }
}
