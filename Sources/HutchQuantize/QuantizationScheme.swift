/// How real values map to integer codes.
///
/// - `symmetric`: zero point 0, signed codes. For bits >= 2 the codes are
///   [-2^(b-1), 2^(b-1)-1] and the scale is max|w| / (2^(b-1)-1) (HAWQ-V3), so the most
///   negative code is never produced by min-max ranges but stays legal, as in INT8 QDQ.
///   For 1 bit the codes are {-1, +1} (sign quantization, XNOR-Net / BinaryConnect):
///   w >= 0 -> +1, w < 0 -> -1, and the scale is mean|w|, the least-squares scale for
///   sign codes; the range method is ignored because that scale is already optimal.
/// - `asymmetric`: unsigned codes [0, 2^b-1] and an integer zero point chosen so that
///   0.0 is exactly representable (the range is widened to include 0).
public enum QuantizationScheme: String, Sendable, Equatable, Codable, CaseIterable {
    case symmetric
    case asymmetric
}

/// The integer codes a (scheme, bits) pair allows: codes = minCode + step * u, u in [0, 2^b-1].
/// `u` is what the bit packer stores. `step` is 2 only for 1-bit symmetric ({-1, +1}).
public struct QuantizationGrid: Sendable, Equatable, Hashable {
    public let scheme: QuantizationScheme
    public let bits: Int

    public init(scheme: QuantizationScheme, bits: Int) throws(QuantizerError) {
        guard (1...16).contains(bits) else { throw .bitsOutOfRange(bits) }
        self.scheme = scheme
        self.bits = bits
    }

    /// True for 1-bit symmetric: sign codes {-1, +1}.
    public var isBinary: Bool { scheme == .symmetric && bits == 1 }

    public var minCode: Int32 {
        switch scheme {
        case .symmetric: isBinary ? -1 : -(Int32(1) << (bits - 1))
        case .asymmetric: 0
        }
    }

    public var maxCode: Int32 {
        switch scheme {
        case .symmetric: isBinary ? 1 : (Int32(1) << (bits - 1)) - 1
        case .asymmetric: (Int32(1) << bits) - 1
        }
    }

    public var step: Int32 { isBinary ? 2 : 1 }

    /// The packed (unsigned, b-bit) form of a code; nil when the code is not on the grid.
    public func packedValue(of code: Int32) -> UInt32? {
        guard code >= minCode, code <= maxCode, (code - minCode) % step == 0 else { return nil }
        return UInt32((code - minCode) / step)
    }

    /// The code a packed value stands for; `value` must be below 2^bits.
    public func code(ofPacked value: UInt32) -> Int32 {
        minCode + step * Int32(value)
    }
}
