import Foundation

/// The three linear costs HAWQ-V3 constrains, and budgets on them in absolute units.
public enum CostKind: String, Sendable, Equatable, CaseIterable {
    /// Weight storage: Σ parameters × weight bits, in bits (biases, scales not counted).
    case size
    /// Bit operations per example: Σ MACs × weight bits × activation bits.
    case bops
    /// Σ per-layer latency from the user's table, in milliseconds.
    case latency

    public var label: String {
        switch self {
        case .size: return "size"
        case .bops: return "BOPs"
        case .latency: return "latency"
        }
    }

    public var unit: String {
        switch self {
        case .size: return "bits"
        case .bops: return "bit operations"
        case .latency: return "ms"
        }
    }

    /// Human units for messages: MB (10^6 bytes), GBOPs (10^9), ms.
    public func format(_ value: Double) -> String {
        switch self {
        case .size: return formatNumber(value / 8e6) + " MB"
        case .bops: return formatNumber(value / 1e9) + " GBOPs"
        case .latency: return formatNumber(value) + " ms"
        }
    }
}

/// A budget as the user gave it. Size budgets: `sizeMegabytes` (MB = 10^6 bytes of weights),
/// `averageBits` (limit = average × total parameters), `sizeFraction` f ∈ [0, 1]
/// (limit = lowest + f·(highest − lowest), where lowest/highest put every layer at its lowest /
/// highest candidate width with pins and ties applied; HAWQ-V3's scheme). At most one per kind.
public enum BudgetSpec: Sendable, Equatable, CustomStringConvertible {
    case sizeMegabytes(Double)
    case averageBits(Double)
    case sizeFraction(Double)
    case gigaBOPs(Double)
    case latencyMilliseconds(Double)

    public var kind: CostKind {
        switch self {
        case .sizeMegabytes, .averageBits, .sizeFraction: return .size
        case .gigaBOPs: return .bops
        case .latencyMilliseconds: return .latency
        }
    }

    /// The flag spelling, for plan.json and messages.
    public var description: String {
        switch self {
        case .sizeMegabytes(let x): return "--size-mb \(formatNumber(x))"
        case .averageBits(let x): return "--avg-bits \(formatNumber(x))"
        case .sizeFraction(let x): return "--size-frac \(formatNumber(x))"
        case .gigaBOPs(let x): return "--bops-g \(formatNumber(x))"
        case .latencyMilliseconds(let x): return "--latency-ms \(formatNumber(x))"
        }
    }
}

/// A resolved budget: total cost of `kind` ≤ `limit` (bits, bit operations or ms).
public struct Budget: Sendable, Equatable {
    public var kind: CostKind
    public var limit: Double
    public var spec: BudgetSpec
}

func formatNumber(_ value: Double) -> String {
    if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
    var text = String(format: "%.6g", value)
    if text.contains("e") { return text }
    if text.contains(".") {
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
    }
    return text
}
