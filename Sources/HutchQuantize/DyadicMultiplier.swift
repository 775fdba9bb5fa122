/// A positive real multiplier M written as numerator / 2^shift (HAWQ-V3 integer-only
/// requantization: M = S_w * S_in / S_out, applied as (acc * numerator) >> shift).
public struct DyadicMultiplier: Sendable, Equatable, Hashable, Codable {
    /// Positive, at most Int32.max.
    public var numerator: Int32
    /// In 0...62.
    public var shift: Int

    /// Unchecked; use `init(_:)` to convert a real multiplier.
    public init(numerator: Int32, shift: Int) {
        self.numerator = numerator
        self.shift = shift
    }

    private enum CodingKeys: String, CodingKey { case numerator, shift }

    /// Decoding checks numerator > 0 and shift in 0...62: a plan file is input.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let numerator = try container.decode(Int32.self, forKey: .numerator)
        let shift = try container.decode(Int.self, forKey: .shift)
        guard numerator > 0, (0...62).contains(shift) else {
            throw QuantizerError.invalidState("dyadic multiplier \(numerator) / 2^\(shift) needs a positive numerator and a shift in 0...62")
        }
        self.init(numerator: numerator, shift: shift)
    }

    /// numerator / 2^shift as a Double (exact).
    public var value: Double { Double(numerator) * Double(sign: .plus, exponent: -shift, significand: 1) }

    /// The nearest dyadic with the largest shift whose numerator still fits Int32.
    ///
    /// Choosing the largest such shift puts the numerator in [2^30, 2^31), so the relative
    /// error |value - M| / M is below 2^-31. That needs 2^-32 <= M < 2^31 - 1/2; outside it
    /// (or for M <= 0, NaN, infinity) this throws.
    public init(_ m: Double) throws(QuantizerError) {
        guard !m.isNaN, m.isFinite else { throw .multiplierNotFinite(m) }
        guard m > 0 else { throw .multiplierNotPositive(m) }
        let limit = Double(Int32.max)
        // Scaling by a power of two is exact, so each candidate is M * 2^c with no rounding.
        guard m.rounded(.toNearestOrEven) <= limit else { throw .multiplierTooLarge(m) }
        var shift = 0
        while shift < 62, (m * Self.power(shift + 1)).rounded(.toNearestOrEven) <= limit {
            shift += 1
        }
        let scaled = m * Self.power(shift)
        // Below 2^30 - 1/4 the numerator has lost a bit and the 2^-31 bound no longer holds.
        guard scaled >= Double(1 << 30) - 0.25 else { throw .multiplierTooSmall(m) }
        self.init(numerator: Int32(scaled.rounded(.toNearestOrEven)), shift: shift)
    }

    /// x * numerator / 2^shift rounded half up, i.e. `(x * b + 2^(c-1)) >> c` as integer-only
    /// kernels do it; the product is formed exactly in 128 bits.
    public func apply(to x: Int64) -> Int64 {
        let product = x.multipliedFullWidth(by: Int64(numerator))
        var wide = (high: product.high, low: product.low)
        if shift > 0 {
            let (low, carry) = wide.low.addingReportingOverflow(UInt64(1) << (shift - 1))
            wide = (wide.high &+ (carry ? 1 : 0), low)
        }
        // Arithmetic right shift of the 128-bit value; shift <= 62 so the result fits Int64
        // whenever |x| < 2^32 (accumulators), and wraps otherwise.
        guard shift > 0 else { return Int64(bitPattern: wide.low) }
        let low = (wide.low >> UInt64(shift)) | (UInt64(bitPattern: wide.high) << UInt64(64 - shift))
        return Int64(bitPattern: low)
    }

    private static func power(_ c: Int) -> Double { Double(sign: .plus, exponent: c, significand: 1) }
}
