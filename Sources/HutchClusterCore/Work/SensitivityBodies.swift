import HutchSensitivity

/// Body formats of sensitivity TASK and RESULT messages (Protocols/wire.md, "Body formats").
///
/// TASK body:   u8 format (1) · 6 × u64 ranges · u32 n · n bytes of SensitivityWorkSpec JSON
/// RESULT body: u8 format (1) · 6 × u64 ranges · u32 k · k × u32 examples per batch
/// ranges = batches.lower, batches.upper, probes.lower, probes.upper, groups.lower, groups.upper
public enum SensitivityBodies {
    public static let format: UInt8 = 1
    /// Largest spec accepted (the task body limit is 1 MiB; layer groups dominate).
    static let maxSpecBytes = 1 << 19

    public static func taskBody(_ task: SensitivityTask, spec: [UInt8], format: UInt8 = format) -> [UInt8] {
        var out: [UInt8] = [format]
        appendRanges(task, to: &out)
        appendU32(UInt32(spec.count), to: &out)
        return out + spec
    }

    public static func resultBody(_ task: SensitivityTask, exampleCounts: [Int], format: UInt8 = format) -> [UInt8] {
        var out: [UInt8] = [format]
        appendRanges(task, to: &out)
        appendU32(UInt32(exampleCounts.count), to: &out)
        for c in exampleCounts { appendU32(UInt32(clamping: c), to: &out) }
        return out
    }

    public static func decodeTask(_ body: [UInt8], format: UInt8 = format) throws(BodyError) -> (task: SensitivityTask, spec: [UInt8]) {
        var r = Reader(bytes: body)
        let task = try r.header(format: format)
        let n = Int(try r.u32())
        guard n <= maxSpecBytes, r.remaining == n else { throw BodyError("task body: spec length \(n) does not match the \(r.remaining) bytes that follow") }
        return (task, Array(body[r.offset...]))
    }

    public static func decodeResult(_ body: [UInt8], format: UInt8 = format) throws(BodyError) -> (task: SensitivityTask, exampleCounts: [Int]) {
        var r = Reader(bytes: body)
        let task = try r.header(format: format)
        let k = Int(try r.u32())
        guard r.remaining == 4 * k else { throw BodyError("result body: \(k) example counts need \(4 * k) bytes, \(r.remaining) follow") }
        var counts: [Int] = []
        for _ in 0..<k { counts.append(Int(try r.u32())) }
        return (task, counts)
    }

    private static func appendRanges(_ t: SensitivityTask, to out: inout [UInt8]) {
        for v in [t.batches.lowerBound, t.batches.upperBound, t.probes.lowerBound, t.probes.upperBound,
                  t.groups.lowerBound, t.groups.upperBound] {
            appendU64(UInt64(clamping: v), to: &out)
        }
    }

    static func appendU64(_ v: UInt64, to out: inout [UInt8]) {
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: v >> (8 * i))) }
    }

    static func appendU32(_ v: UInt32, to out: inout [UInt8]) {
        for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * i))) }
    }

    struct Reader {
        let bytes: [UInt8]
        var offset = 0
        var remaining: Int { bytes.count - offset }

        mutating func u64() throws(BodyError) -> UInt64 { try little(UInt64.self) }
        mutating func u32() throws(BodyError) -> UInt32 { try little(UInt32.self) }

        /// The next little-endian unsigned integer of T's width.
        private mutating func little<T: FixedWidthInteger & UnsignedInteger>(_: T.Type) throws(BodyError) -> T {
            let n = T.bitWidth / 8
            guard remaining >= n else { throw BodyError("body truncated at byte \(offset)") }
            var v: T = 0
            for i in 0..<n { v |= T(bytes[offset + i]) << (8 * i) }
            offset += n
            return v
        }

        /// Format byte and the six range bounds; each range must be ordered and fit in an Int32.
        mutating func header(format: UInt8 = SensitivityBodies.format) throws(BodyError) -> SensitivityTask {
            guard remaining >= 1 else { throw BodyError("empty body") }
            guard bytes[offset] == format else { throw BodyError("body format \(bytes[offset]) is not \(format)") }
            offset += 1
            var ranges: [Range<Int>] = []
            for name in ["batches", "probes", "groups"] {
                let lo = try u64(), hi = try u64()
                guard lo <= hi, hi <= UInt64(Int32.max) else { throw BodyError("body: \(name) range \(lo)..<\(hi) is not ordered or too large") }
                ranges.append(Int(lo)..<Int(hi))
            }
            return SensitivityTask(batches: ranges[0], probes: ranges[1], groups: ranges[2])
        }
    }
}

/// Eigenvalue tasks travel as sensitivity tasks with body format 2:
/// TASK body:   u8 format (2) · u32 layer · u32 max iterations · u32 n · n bytes of spec JSON
/// RESULT body: u8 format (2) · u32 layer; values = [top eigenvalue of the layer's Hessian block]
public enum EigenvalueBodies {
    public static let format: UInt8 = 2

    public static func taskBody(layer: Int, iterations: Int, spec: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [format]
        for v in [UInt32(clamping: layer), UInt32(clamping: iterations), UInt32(spec.count)] {
            for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * i))) }
        }
        return out + spec
    }

    public static func decodeTask(_ body: [UInt8]) throws(BodyError) -> (layer: Int, iterations: Int, spec: [UInt8]) {
        var r = SensitivityBodies.Reader(bytes: body)
        guard r.remaining >= 1, body[0] == format else { throw BodyError("eigenvalue task body: format is not 2") }
        r.offset = 1
        let layer = Int(try r.u32()), iterations = Int(try r.u32()), n = Int(try r.u32())
        guard r.remaining == n else { throw BodyError("eigenvalue task body: spec length \(n), \(r.remaining) bytes follow") }
        return (layer, iterations, Array(body[r.offset...]))
    }

    public static func resultBody(layer: Int) -> [UInt8] {
        [format] + (0..<4).map { UInt8(truncatingIfNeeded: UInt32(clamping: layer) >> (8 * $0)) }
    }
}

/// A TASK or RESULT body that does not follow its format.
public struct BodyError: Error, Sendable, CustomStringConvertible {
    public let description: String
    package init(_ description: String) { self.description = description }
}
