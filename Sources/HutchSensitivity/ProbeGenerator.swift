import HutchTensor

/// Counter-based Rademacher probes (Protocols/README.md, "Hutchinson"): every sign is a pure function of
/// (job seed, stream, probe index, layer index, element index), so a probe is the same vector on
/// every worker and thread, whatever else that worker computes.
///
/// Word w = mix(mix(mix(mix(mix(seed) ^ stream) ^ probe) ^ layer) ^ (element / 64)), where mix is
/// SplitMix64's output function (add the golden gamma, then the two xor-shift-multiply rounds).
/// Element e gets +1 when bit (e % 64) of its word is 0, else -1.
public struct ProbeGenerator: Sendable, Hashable {
    /// Independent sequences drawn from one seed.
    public enum Stream: UInt64, Sendable {
        /// Hutchinson probe directions.
        case hutchinson = 0
        /// Start vectors of the power iteration for top eigenvalues.
        case eigenvalue = 1
        /// Sign vectors u of the sampled Gauss-Newton estimator: probe = sample, layer = example.
        case gaussNewton = 2
    }

    public let seed: UInt64
    public init(seed: UInt64) { self.seed = seed }

    /// SplitMix64's output function.
    @inlinable
    public static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The 64 signs of elements 64*block ..< 64*block+64 (bit set = -1).
    @inlinable
    public func word(stream: Stream = .hutchinson, probe: Int, layer: Int, block: Int) -> UInt64 {
        let key = Self.mix(Self.mix(Self.mix(seed) ^ stream.rawValue) ^ UInt64(truncatingIfNeeded: probe))
        return Self.mix(Self.mix(key ^ UInt64(truncatingIfNeeded: layer)) ^ UInt64(truncatingIfNeeded: block))
    }

    /// Rademacher vector (+-1) of `count` elements for (probe, layer).
    public func signs<Scalar: TensorScalar>(_: Scalar.Type = Scalar.self, stream: Stream = .hutchinson,
                                            probe: Int, layer: Int, count: Int) -> [Scalar] {
        var out = [Scalar](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { fillSigns($0, stream: stream, probe: probe, layer: layer) }
        return out
    }

    /// The same vector written into `buffer` (its count elements).
    public func fillSigns<Scalar: TensorScalar>(_ buffer: UnsafeMutableBufferPointer<Scalar>, stream: Stream = .hutchinson,
                                                probe: Int, layer: Int) {
        let count = buffer.count
        let key = Self.mix(Self.mix(Self.mix(seed) ^ stream.rawValue) ^ UInt64(truncatingIfNeeded: probe))
        let layerKey = Self.mix(key ^ UInt64(truncatingIfNeeded: layer))
        var block = 0
        var start = 0
        while start < count {
            let w = Self.mix(layerKey ^ UInt64(block))
            // branch-free: the signs are random, so a branch per element mispredicts half the time
            for bit in 0..<min(64, count - start) {
                buffer[start + bit] = 1 - 2 * Scalar(Int((w >> UInt64(bit)) & 1))
            }
            block += 1
            start += 64
        }
    }
}
