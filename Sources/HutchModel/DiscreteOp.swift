/// The piecewise-constant ops on data that attention masks are made of (`Op.discrete`): their
/// outputs are 0/1 or integers, carried as floats like every value, and have no derivatives.
public enum DiscreteOp: String, Sendable, Equatable, CaseIterable {
    case and = "And", or = "Or", xor = "Xor", not = "Not"
    case equal = "Equal", greater = "Greater", greaterOrEqual = "GreaterOrEqual", less = "Less", lessOrEqual = "LessOrEqual"
    /// Cast to bool: 1 where x is not 0.
    case notZero = "Cast to bool"
    /// Cast to an integer type: x rounded toward zero.
    case truncate = "Cast to integer"

    /// The op of an ONNX op type on data, for the types with one.
    public init?(onnxType: String) {
        guard let op = DiscreteOp(rawValue: onnxType), op != .notZero, op != .truncate else { return nil }
        self = op
    }

    public var onnxType: String { self == .notZero || self == .truncate ? "Cast" : rawValue }

    /// Ops of one input (the others take two, broadcasting).
    public var isUnary: Bool { self == .not || self == .notZero || self == .truncate }

    /// The result on one element (b is ignored by the unary ops).
    public func apply(_ a: Double, _ b: Double) -> Double {
        let result: Bool
        switch self {
        case .and: result = a != 0 && b != 0
        case .or: result = a != 0 || b != 0
        case .xor: result = (a != 0) != (b != 0)
        case .not: result = a == 0
        case .equal: result = a == b
        case .greater: result = a > b
        case .greaterOrEqual: result = a >= b
        case .less: result = a < b
        case .lessOrEqual: result = a <= b
        case .notZero: result = a != 0
        case .truncate: return a.rounded(.towardZero)
        }
        return result ? 1 : 0
    }
}
