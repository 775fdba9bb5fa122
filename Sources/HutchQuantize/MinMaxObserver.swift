/// Running per-tensor min and max over a stream of batches. Partial observers from different
/// workers merge exactly (min and max are associative and commutative).
public struct MinMaxObserver: Sendable, Equatable, Hashable, Codable {
    public private(set) var min: Float = .infinity
    public private(set) var max: Float = -.infinity
    public private(set) var count: Int = 0

    public init() {}

    /// Adds one batch; NaN or infinity is an error (the observer is left unchanged).
    public mutating func observe(_ values: [Float]) throws(QuantizerError) {
        try requireFinite(values)
        for v in values {
            min = Swift.min(min, v)
            max = Swift.max(max, v)
        }
        count += values.count
    }

    /// Combines with another partial observer of the same tensor.
    public mutating func merge(_ other: MinMaxObserver) {
        min = Swift.min(min, other.min)
        max = Swift.max(max, other.max)
        count += other.count
    }

    /// The observed range; throws when nothing was observed.
    public func range() throws(QuantizerError) -> ActivationRange {
        guard count > 0 else { throw .emptyCalibration }
        return ActivationRange(min: min, max: max)
    }
}
