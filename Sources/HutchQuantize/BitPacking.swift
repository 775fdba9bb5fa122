/// Little-endian bitstreams of fixed-width unsigned values.
///
/// Value i occupies stream bits [i*b, (i+1)*b), least significant bit first; stream bit k is
/// bit (k % 8) of byte k / 8. The last byte's unused high bits are zero. This is the order
/// numpy's `np.packbits(..., bitorder="little")` gives for the bits of each value LSB first.
public enum BitPacking {
    /// Bytes needed for `count` values of `bits` bits.
    public static func byteCount(count: Int, bits: Int) -> Int {
        (count * bits + 7) / 8
    }

    /// Packs values of width `bits` (1...16); every value must be below 2^bits.
    public static func pack(_ values: [UInt32], bits: Int) throws(QuantizerError) -> [UInt8] {
        guard (1...16).contains(bits) else { throw .bitsOutOfRange(bits) }
        var out = [UInt8](repeating: 0, count: byteCount(count: values.count, bits: bits))
        var accumulator: UInt64 = 0
        var filled = 0
        var position = 0
        for (index, value) in values.enumerated() {
            guard value >> bits == 0 else { throw .codeOutOfRange(index: index, code: Int32(truncatingIfNeeded: value), bits: bits) }
            accumulator |= UInt64(value) << filled
            filled += bits
            while filled >= 8 {
                out[position] = UInt8(truncatingIfNeeded: accumulator)
                position += 1
                accumulator >>= 8
                filled -= 8
            }
        }
        if filled > 0 { out[position] = UInt8(truncatingIfNeeded: accumulator) }
        return out
    }

    /// Unpacks `count` values of width `bits`; `bytes` must be exactly `byteCount` long with zero padding.
    public static func unpack(_ bytes: [UInt8], count: Int, bits: Int) throws(QuantizerError) -> [UInt32] {
        guard (1...16).contains(bits) else { throw .bitsOutOfRange(bits) }
        let expected = byteCount(count: count, bits: bits)
        guard bytes.count == expected else { throw .packedByteCountMismatch(expected: expected, actual: bytes.count) }
        var out = [UInt32]()
        out.reserveCapacity(count)
        let mask = (UInt64(1) << bits) - 1
        var accumulator: UInt64 = 0
        var filled = 0
        var position = 0
        for _ in 0..<count {
            while filled < bits {
                accumulator |= UInt64(bytes[position]) << filled
                position += 1
                filled += 8
            }
            out.append(UInt32(accumulator & mask))
            accumulator >>= bits
            filled -= bits
        }
        guard accumulator == 0 else { throw .nonZeroPadding }
        return out
    }
}

extension QuantizedTensor {
    /// The codes as a packed bitstream of `bits`-wide values (see `QuantizationGrid.packedValue`).
    public func packedCodes() throws(QuantizerError) -> [UInt8] {
        var values = [UInt32]()
        values.reserveCapacity(codes.count)
        for (index, code) in codes.enumerated() {
            guard let value = grid.packedValue(of: code) else {
                throw .codeOutOfRange(index: index, code: code, bits: grid.bits)
            }
            values.append(value)
        }
        return try BitPacking.pack(values, bits: grid.bits)
    }

    /// Codes on `grid` from a packed bitstream of `count` values.
    public static func codes(fromPacked bytes: [UInt8], count: Int,
                             grid: QuantizationGrid) throws(QuantizerError) -> [Int32] {
        try BitPacking.unpack(bytes, count: count, bits: grid.bits).map(grid.code(ofPacked:))
    }
}
