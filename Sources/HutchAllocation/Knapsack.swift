/// A multiple-choice knapsack problem in minimisation form: pick exactly one choice per item,
/// minimise the total value, keep every dimension's total weight within its capacity.
/// Bit allocation reduces to this (items = tied layer groups, choices = bit widths,
/// value = Ω, weights = size / BOPs / latency); the solvers work on this form only.
public struct KnapsackChoice: Sendable, Equatable {
    public var value: Double
    public var weights: [Double]
    public init(value: Double, weights: [Double]) {
        self.value = value
        self.weights = weights
    }
}

public struct KnapsackInstance: Sendable {
    public let dimensions: Int
    public let capacities: [Double]
    public let itemCount: Int
    /// Choices of item i are `start[i] ..< start[i + 1]` in the flat arrays below.
    let start: [Int]
    let values: [Double]
    /// Weight of flat choice c in dimension d is `weights[c * dimensions + d]`.
    let weights: [Double]

    /// `items` must be non-empty lists whose weights all have `capacities.count` entries;
    /// the allocation layer guarantees that before building an instance.
    public init(items: [[KnapsackChoice]], capacities: [Double]) {
        dimensions = capacities.count
        self.capacities = capacities
        itemCount = items.count
        var start = [0]
        var values: [Double] = []
        var weights: [Double] = []
        for item in items {
            for choice in item {
                values.append(choice.value)
                weights.append(contentsOf: choice.weights)
            }
            start.append(values.count)
        }
        self.start = start
        self.values = values
        self.weights = weights
    }

    public func choices(of item: Int) -> Range<Int> { start[item] ..< start[item + 1] }

    public func choice(_ item: Int, _ local: Int) -> KnapsackChoice {
        let c = start[item] + local
        return KnapsackChoice(value: values[c], weights: Array(weights[c * dimensions ..< (c + 1) * dimensions]))
    }

    /// Total value and weights of a selection (one local choice index per item).
    public func evaluate(_ selection: [Int]) -> (value: Double, weights: [Double]) {
        var value = 0.0
        var totals = [Double](repeating: 0, count: dimensions)
        for (item, local) in selection.enumerated() {
            let c = start[item] + local
            value += values[c]
            for d in 0 ..< dimensions { totals[d] += weights[c * dimensions + d] }
        }
        return (value, totals)
    }

    public func isFeasible(_ selection: [Int]) -> Bool {
        let totals = evaluate(selection).weights
        return (0 ..< dimensions).allSatisfy { Knapsack.fits(totals[$0], capacities[$0]) }
    }

    /// Per dimension, the smallest total weight any selection can reach (each item at its lightest).
    public var minimumWeights: [Double] {
        (0 ..< dimensions).map { d in
            (0 ..< itemCount).reduce(0.0) { sum, item in
                sum + choices(of: item).map { weights[$0 * dimensions + d] }.min()!
            }
        }
    }
}

/// The result of a solver: one local choice index per item.
public struct KnapsackSolution: Sendable, Equatable {
    public var selection: [Int]
    public var value: Double
    public var weights: [Double]
    /// True when the solver proved that no feasible selection has a smaller value
    /// (within `Knapsack.relativeTolerance`).
    public var provenOptimal: Bool
    /// A proven lower bound on the optimal value (LP / Lagrangian relaxation, or the value itself).
    public var lowerBound: Double
    /// Search effort: DP states or branch-and-bound nodes visited.
    public var work: Int
    public var algorithm: String
}

public enum Knapsack {
    /// Feasibility slack on capacities, relative: integer costs (sizes, BOPs) below 2^53 are exact
    /// in Double, so this only absorbs rounding in latency sums.
    public static let capacityTolerance = 1e-9
    /// Pruning tolerance: "proven optimal" means no selection is better by more than this, relative.
    public static let relativeTolerance = 1e-9

    @inline(__always)
    public static func fits(_ total: Double, _ capacity: Double) -> Bool {
        total <= capacity + capacityTolerance * abs(capacity)
    }
}
