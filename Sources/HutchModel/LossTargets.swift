/// What the loss compares the model output with (Protocols/README.md, "Loss"): one class per
/// example, one class per token (`ignoredToken` marks tokens that do not count), or real-valued
/// targets. Entries are example-major, so the targets of examples a..<b are one contiguous run.
public enum LossTargets: Sendable, Equatable {
    /// [N] class indices; output logits [N, C]; mean softmax cross-entropy over the examples.
    case classes([Int])
    /// [N, T] class indices flattened; output logits [N, T, V]; mean over the tokens that count.
    case tokens([Int], perExample: Int)
    /// [N, K] values flattened; output [N, K]; mean squared error over all N * K entries.
    case values([Float], perExample: Int)

    /// PyTorch's ignore_index: a token with this label does not count.
    public static let ignoredToken = -100

    /// Target entries per example.
    public var perExample: Int {
        switch self {
        case .classes: 1
        case .tokens(_, let t), .values(_, let t): t
        }
    }

    /// Target entries in all.
    public var count: Int {
        switch self {
        case .classes(let y): y.count
        case .tokens(let y, _): y.count
        case .values(let y, _): y.count
        }
    }

    /// The mean's denominator over these targets: the examples, the tokens that count (at least
    /// 1), or every value.
    public var normalizer: Int {
        switch self {
        case .classes(let y): max(1, y.count)
        case .tokens(let y, _): max(1, y.lazy.filter { $0 != Self.ignoredToken }.count)
        case .values(let y, _): max(1, y.count)
        }
    }

    /// The targets of examples `range` (a chunk of the batch).
    public func examples(_ range: Range<Int>) -> LossTargets {
        let (a, b) = (range.lowerBound * perExample, range.upperBound * perExample)
        switch self {
        case .classes(let y): return .classes(Array(y[a..<b]))
        case .tokens(let y, let t): return .tokens(Array(y[a..<b]), perExample: t)
        case .values(let y, let t): return .values(Array(y[a..<b]), perExample: t)
        }
    }
}
