/// Running per-tensor min and max over a stream of batches. Partial observers from different
/// workers merge exactly (min and max are associative and commutative).
public struct MinMaxObserver: Sendable, Equatable, Hashable, Codable {
    public private(set) var min: Float = .infinity
    public private(set) var max: Float = -.infinity
    public private(set) var count: Int = 0

    public init() {}

    private enum CodingKeys: String, CodingKey { case min, max, count }

    /// Decoding checks the state: a partial observer from the wire is input.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let count = try container.decode(Int.self, forKey: .count)
        guard count >= 0 else { throw QuantizerError.invalidState("min-max observer count \(count) is negative") }
        if count > 0 {
            let min = try container.decode(Float.self, forKey: .min)
            let max = try container.decode(Float.self, forKey: .max)
            guard min.isFinite, max.isFinite, min <= max else {
                throw QuantizerError.invalidState("min-max observer range [\(min), \(max)] must be finite with min <= max")
            }
            (self.min, self.max) = (min, max)
        }
        self.count = count
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(count, forKey: .count)
        if count > 0 {
            try container.encode(min, forKey: .min)
            try container.encode(max, forKey: .max)
        }
    }

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
