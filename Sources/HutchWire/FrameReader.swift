/// Reads a message's fields in order; every read checks presence and exact or bounded length.
struct FrameReader {
    let frames: [[UInt8]]
    let command: WireCommand
    private var index = 2

    init(frames: [[UInt8]], command: WireCommand) { self.frames = frames; self.command = command }

    mutating func next(_ field: String) throws(WireError) -> [UInt8] {
        guard index < frames.count else { throw .missingField(command, field: field) }
        defer { index += 1 }
        return frames[index]
    }

    /// Whether a frame is left: an optional last field is present.
    var hasMore: Bool { index < frames.count }

    mutating func integer<T: FixedWidthInteger & UnsignedInteger>(_ field: String, as: T.Type = T.self) throws(WireError) -> T {
        let frame = try next(field)
        let size = MemoryLayout<T>.size
        guard frame.count == size else { throw .wrongFieldLength(command, field: field, expected: size, actual: frame.count) }
        var value: T = 0
        for (i, byte) in frame.enumerated() { value |= T(byte) << (8 * i) }
        return value
    }

    mutating func bytes(_ field: String, _ allowed: ClosedRange<Int>) throws(WireError) -> [UInt8] {
        let frame = try next(field)
        try Check.length(frame.count, allowed, command, field)
        return frame
    }

    mutating func text(_ field: String, _ allowed: ClosedRange<Int>) throws(WireError) -> String {
        let frame = try bytes(field, allowed)
        guard let text = String(validating: frame, as: UTF8.self) else { throw .invalidUTF8(command, field: field) }
        return text
    }

    mutating func digest(_ field: String) throws(WireError) -> WireDigest {
        let frame = try next(field)
        guard let digest = WireDigest(bytes: frame) else {
            throw .wrongFieldLength(command, field: field, expected: WireDigest.byteCount, actual: frame.count)
        }
        return digest
    }

    mutating func digests(_ field: String) throws(WireError) -> [WireDigest] {
        let frame = try next(field)
        let size = WireDigest.byteCount
        guard frame.count % size == 0 else { throw .misaligned(command, field: field, bytes: frame.count, element: size) }
        try Check.length(frame.count, 0...(WireLimits.digestsPerMessage.upperBound * size), command, field)
        var result: [WireDigest] = []
        var start = 0
        while start < frame.count {
            if let digest = WireDigest(bytes: Array(frame[start..<start + size])) { result.append(digest) }
            start += size
        }
        return result
    }

    mutating func doubles(_ field: String, _ allowed: ClosedRange<Int>) throws(WireError) -> [Double] {
        let frame = try next(field)
        guard frame.count % 8 == 0 else { throw .misaligned(command, field: field, bytes: frame.count, element: 8) }
        try Check.length(frame.count, (allowed.lowerBound * 8)...(allowed.upperBound * 8), command, field)
        return frame.withUnsafeBytes { raw in
            (0..<raw.count / 8).map { i in
                Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))
            }
        }
    }

    mutating func enumeration<E: RawRepresentable>(_ field: String, as: E.Type) throws(WireError) -> E
    where E.RawValue: FixedWidthInteger & UnsignedInteger {
        let raw: E.RawValue = try integer(field)
        guard let value = E(rawValue: raw) else { throw .unknownValue(command, field: field, value: UInt64(raw)) }
        return value
    }

    /// Fails if frames remain after the last field.
    func finish() throws(WireError) {
        if index < frames.count { throw .extraFrames(command, count: frames.count - index) }
    }
}
