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
        let frame = [UInt8](unsafeUninitializedCapacity: values.count * 8) { buffer, count in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            for (i, value) in values.enumerated() {
                raw.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: 8 * i, as: UInt64.self)
            }
            count = values.count * 8
        }
        frames.append(frame)
    }
}
