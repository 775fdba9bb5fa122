/// Little-endian writer for the packed weight format.
struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func i32(_ v: Int32) { u32(UInt32(bitPattern: v)) }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func f32(_ v: Float) { u32(v.bitPattern) }
    mutating func raw(_ v: [UInt8]) { bytes.append(contentsOf: v) }

    /// Overwrites 8 bytes at `offset` (for the total length, known only at the end).
    mutating func patchU64(_ v: UInt64, at offset: Int) {
        withUnsafeBytes(of: v.littleEndian) { for (i, b) in $0.enumerated() { bytes[offset + i] = b } }
    }
}

/// Bounds-checked little-endian reader; running out names the layer and field.
struct ByteReader {
    let bytes: [UInt8]
    private(set) var position: Int
    let end: Int
    var layer = "header"

    init(_ bytes: [UInt8], from start: Int, to end: Int) {
        self.bytes = bytes
        self.position = start
        self.end = end
    }

    var remaining: Int { end - position }

    mutating func take(_ n: Int, _ field: String) throws(PackedWeightFileError.Problem) -> ArraySlice<UInt8> {
        guard n >= 0, n <= remaining else {
            throw .invalidField(layer: layer, field: field, reason: "runs past the end of the layer data (\(n) bytes needed, \(remaining) left)")
        }
        defer { position += n }
        return bytes[position..<(position + n)]
    }

    mutating func u8(_ field: String) throws(PackedWeightFileError.Problem) -> UInt8 {
        try take(1, field).first ?? 0
    }

    mutating func u32(_ field: String) throws(PackedWeightFileError.Problem) -> UInt32 {
        try take(4, field).reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }

    mutating func i32(_ field: String) throws(PackedWeightFileError.Problem) -> Int32 {
        Int32(bitPattern: try u32(field))
    }

    mutating func u64(_ field: String) throws(PackedWeightFileError.Problem) -> UInt64 {
        try take(8, field).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    mutating func f32(_ field: String) throws(PackedWeightFileError.Problem) -> Float {
        Float(bitPattern: try u32(field))
    }
}
