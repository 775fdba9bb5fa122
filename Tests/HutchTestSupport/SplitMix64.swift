/// SplitMix64: the small seeded generator every test suite uses for reproducible test data.
/// (HutchSensitivity's probe generator uses the same mixing function in production code; this one
/// is for tests only.)
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1), 53 random bits.
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Uniform in [-1, 1), 53 random bits.
    public mutating func symmetric() -> Double { Double(next() >> 11) * 0x1p-52 - 1 }
}
