/// Percentile calibration with exactly mergeable partial states.
///
/// Two passes over the calibration data: first a `MinMaxObserver` (merged over all workers)
/// fixes the range [lower, upper]; then every worker fills a histogram with the same range and
/// bin count. Counts are integers, so merging is addition: exact, and the same however the
/// batches were split or ordered. Bin i covers [lower + i*w, lower + (i+1)*w), w = (upper -
/// lower) / bins, the last bin includes `upper`; values outside the range (only possible when
/// the second pass sees other data) are counted in the edge bins.
public struct HistogramObserver: Sendable, Equatable, Hashable, Codable {
    public let lower: Float
    public let upper: Float
    public private(set) var counts: [UInt64]

    public static let defaultBins = 2048

    public init(range: ActivationRange, bins: Int = HistogramObserver.defaultBins) throws(QuantizerError) {
        guard bins >= 1 else { throw .invalidHistogram("bin count \(bins) must be at least 1") }
        guard range.min.isFinite, range.max.isFinite, range.min <= range.max else {
            throw .invalidHistogram("range [\(range.min), \(range.max)] must be finite with min <= max")
        }
        lower = range.min
        upper = range.max
        counts = [UInt64](repeating: 0, count: bins)
    }

    private enum CodingKeys: String, CodingKey { case lower, upper, counts }

    /// Decoding re-checks what `init(range:bins:)` checks: a partial state from the wire is input.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let lower = try container.decode(Float.self, forKey: .lower)
        let upper = try container.decode(Float.self, forKey: .upper)
        let counts = try container.decode([UInt64].self, forKey: .counts)
        try self.init(range: ActivationRange(min: lower, max: upper), bins: counts.count)
        self.counts = counts
    }

    public var bins: Int { counts.count }
    public var total: UInt64 { counts.reduce(0, +) }
    private var width: Double { (Double(upper) - Double(lower)) / Double(counts.count) }

    /// Adds one batch; NaN or infinity is an error (the histogram is left unchanged).
    public mutating func observe(_ values: [Float]) throws(QuantizerError) {
        try requireFinite(values)
        let w = width
        let last = counts.count - 1
        for v in values {
            let position = w > 0 ? ((Double(v) - Double(lower)) / w).rounded(.down) : 0
            let bin = position <= 0 ? 0 : (position >= Double(last) ? last : Int(position))
            counts[bin] += 1
        }
    }

    /// Adds another partial histogram built with the same range and bin count.
    public mutating func merge(_ other: HistogramObserver) throws(QuantizerError) {
        guard other.lower == lower, other.upper == upper, other.bins == bins else {
            throw .histogramMismatch("range [\(other.lower), \(other.upper)] with \(other.bins) bins vs [\(lower), \(upper)] with \(bins) bins")
        }
        for i in counts.indices { counts[i] += other.counts[i] }
    }

    /// The range from the (100 - p)-th to the p-th percentile, p in (50, 100], each found by
    /// linear interpolation inside the bin where the cumulative count reaches the target rank,
    /// and clamped to [lower, upper]. p = 100 gives the edges of the outermost non-empty bins.
    public func percentileRange(_ p: Double) throws(QuantizerError) -> ActivationRange {
        guard p > 50, p <= 100 else { throw .invalidPercentile(p) }
        let n = total
        guard n > 0 else { throw .emptyCalibration }
        let high = quantile(p / 100, of: n)
        let low = quantile(1 - p / 100, of: n)
        return ActivationRange(min: low, max: high)
    }

    /// The value below which a fraction q of the observations lie.
    private func quantile(_ q: Double, of n: UInt64) -> Float {
        let target = q * Double(n)
        guard target > 0 else { return lower }
        let w = width
        var cumulative: UInt64 = 0
        for (i, c) in counts.enumerated() where c > 0 {
            if Double(cumulative + c) >= target {
                let fraction = (target - Double(cumulative)) / Double(c)
                let value = Double(lower) + w * (Double(i) + fraction)
                return Float(Swift.min(Swift.max(value, Double(lower)), Double(upper)))
            }
            cumulative += c
        }
        return upper
    }
}
