/// Value checks shared by encoding and decoding, so both sides enforce the same limits.
enum Check {
    static func range(_ value: some FixedWidthInteger, _ allowed: ClosedRange<UInt64>,
                      _ command: WireCommand, _ field: String) throws(WireError) {
        let wide = UInt64(value)
        guard allowed.contains(wide) else {
            throw .valueOutOfRange(command, field: field, value: wide, allowed: allowed)
        }
    }

    static func length(_ count: Int, _ allowed: ClosedRange<Int>,
                       _ command: WireCommand, _ field: String) throws(WireError) {
        guard allowed.contains(count) else { throw .fieldLength(command, field: field, bytes: count, allowed: allowed) }
    }

    /// Names (shown in logs and status) are 1–64 bytes without control characters.
    static func name(_ text: String, _ command: WireCommand, _ field: String) throws(WireError) {
        try length(text.utf8.count, WireLimits.nameBytes, command, field)
        for scalar in text.unicodeScalars where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
            throw .controlCharacter(command, field: field)
        }
    }

    /// Free text (reasons, error messages): bounded; loggers must still escape it.
    static func text(_ text: String, _ command: WireCommand, _ field: String) throws(WireError) {
        try length(text.utf8.count, WireLimits.textBytes, command, field)
    }

    static func digests(_ digests: [WireDigest], _ command: WireCommand, _ field: String) throws(WireError) {
        guard WireLimits.digestsPerMessage.contains(digests.count) else {
            throw .fieldLength(command, field: field, bytes: digests.count * WireDigest.byteCount,
                               allowed: 0...(WireLimits.digestsPerMessage.upperBound * WireDigest.byteCount))
        }
    }

    static func finite(_ values: [Double], _ command: WireCommand, _ field: String) throws(WireError) {
        for (index, value) in values.enumerated() where !value.isFinite {
            throw .nonFinite(command, field: field, index: index)
        }
    }
}
