/// Builds a message's frames: signature, command, then one frame per field, little-endian.
struct FrameWriter {
    private(set) var frames: [[UInt8]]

    init(_ command: WireCommand) {
        frames = [WireLimits.signature + [WireLimits.version], [command.rawValue]]
    }

    mutating func integer<T: FixedWidthInteger & UnsignedInteger>(_ value: T) {
        var frame = [UInt8]()
        frame.reserveCapacity(MemoryLayout<T>.size)
        for shift in stride(from: 0, to: T.bitWidth, by: 8) { frame.append(UInt8(truncatingIfNeeded: value >> shift)) }
        frames.append(frame)
    }

    mutating func bytes(_ value: [UInt8]) { frames.append(value) }
    mutating func text(_ value: String) { frames.append(Array(value.utf8)) }
    mutating func digest(_ value: WireDigest) { frames.append(value.bytes) }
    mutating func digests(_ values: [WireDigest]) { frames.append(values.flatMap(\.bytes)) }

    mutating func doubles(_ values: [Double]) {
        var frame = [UInt8]()
        frame.reserveCapacity(values.count * 8)
        for value in values {
            let bits = value.bitPattern
            for shift in stride(from: 0, to: 64, by: 8) { frame.append(UInt8(truncatingIfNeeded: bits >> shift)) }
        }
        frames.append(frame)
    }
}
