import Foundation

extension PackedWeightFile {
    /// Reads and checks a packed weight file.
    public static func read(from url: URL) throws(PackedWeightFileError) -> [PackedLayer] {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw PackedWeightFileError(file: url.path, .io("cannot read: \(error.localizedDescription)"))
        }
        return try decode([UInt8](data), file: url.path)
    }

    /// Parses the bytes of a packed weight file. Checks, in order: magic, version, length
    /// (truncated or trailing bytes), CRC-32, then every field; each failure is one typed error.
    public static func decode(_ bytes: [UInt8], file: String = "packed weights") throws(PackedWeightFileError) -> [PackedLayer] {
        do {
            return try decodeChecked(bytes)
        } catch {
            throw PackedWeightFileError(file: file, error)
        }
    }

    private static func decodeChecked(_ bytes: [UInt8]) throws(PackedWeightFileError.Problem) -> [PackedLayer] {
        let prefix = Array(bytes.prefix(magic.count))
        guard prefix == Array(magic.prefix(prefix.count)) else { throw .notAPackedWeightFile }
        guard bytes.count >= headerSize + trailerSize else {
            throw .truncated(expectedBytes: UInt64(headerSize + trailerSize), actualBytes: bytes.count)
        }
        var header = ByteReader(bytes, from: magic.count, to: headerSize)
        let fileVersion = try header.u32("version")
        guard fileVersion == version else { throw .unsupportedVersion(fileVersion) }
        let layerCount = try header.u32("layer count")
        let total = try header.u64("total length")
        guard total >= UInt64(headerSize + trailerSize) else {
            throw .invalidField(layer: "header", field: "total length", reason: "\(total) is smaller than an empty file")
        }
        if total > UInt64(bytes.count) { throw .truncated(expectedBytes: total, actualBytes: bytes.count) }
        if total < UInt64(bytes.count) { throw .trailingBytes(expectedBytes: total, actualBytes: bytes.count) }

        let body = bytes.count - trailerSize
        var trailer = ByteReader(bytes, from: body, to: bytes.count)
        let stored = try trailer.u32("checksum")
        let computed = CRC32.checksum(bytes[..<body])
        guard stored == computed else { throw .checksumMismatch(stored: stored, computed: computed) }

        var reader = ByteReader(bytes, from: headerSize, to: body)
        var layers: [PackedLayer] = []
        var names = Set<String>()
        for index in 0..<Int(layerCount) {
            reader.layer = "#\(index)"
            let layer = try readLayer(&reader)
            guard names.insert(layer.name).inserted else {
                throw .invalidField(layer: layer.name, field: "name", reason: "appears twice; layer names must be unique")
            }
            layers.append(layer)
        }
        guard reader.remaining == 0 else {
            throw .invalidField(layer: "header", field: "layer count", reason: "\(layerCount) leaves \(reader.remaining) bytes unread")
        }
        return layers
    }

    private static func readLayer(_ r: inout ByteReader) throws(PackedWeightFileError.Problem) -> PackedLayer {
        func bad(_ field: String, _ reason: String) -> PackedWeightFileError.Problem {
            .invalidField(layer: r.layer, field: field, reason: reason)
        }
        let nameLength = Int(try r.u32("name length"))
        guard nameLength >= 1, nameLength <= maxNameBytes else { throw bad("name length", "\(nameLength) is outside 1...\(maxNameBytes)") }
        guard let name = String(validating: try r.take(nameLength, "name"), as: UTF8.self) else {
            throw bad("name", "is not valid UTF-8")
        }
        r.layer = name
        let bits = Int(try r.u8("bits"))
        guard let scheme = QuantizationScheme(fileCode: try r.u8("scheme")) else { throw bad("scheme", "must be 0 (symmetric) or 1 (asymmetric)") }
        guard let grid = try? QuantizationGrid(scheme: scheme, bits: bits) else { throw bad("bits", "\(bits) is outside 1...16") }
        let axis = Int(try r.i32("axis"))
        let rank = Int(try r.u32("rank"))
        guard (1...maxRank).contains(rank) else { throw bad("rank", "\(rank) is outside 1...\(maxRank)") }
        var shape: [Int] = []
        var count = 1
        for d in 0..<rank {
            let dim = try r.u64("shape[\(d)]")
            guard dim >= 1, dim <= UInt64(maxElements) else { throw bad("shape[\(d)]", "\(dim) is outside 1...2^48") }
            let (product, overflow) = count.multipliedReportingOverflow(by: Int(dim))
            guard !overflow, product <= maxElements else { throw bad("shape", "has more than 2^48 elements") }
            shape.append(Int(dim))
            count = product
        }
        guard axis == -1 || (0..<rank).contains(axis) else { throw bad("axis", "\(axis) must be -1 (per tensor) or 0..<\(rank)") }
        let channels = axis == -1 ? 1 : shape[axis]
        var scales: [Float] = []
        for _ in 0..<channels { scales.append(try r.f32("scales")) }
        var parameters: [AffineParameters] = []
        for c in 0..<channels { parameters.append(AffineParameters(scale: scales[c], zeroPoint: try r.i32("zero_points"))) }
        let codeBytes = try r.u64("code byte count")
        let expected = BitPacking.byteCount(count: count, bits: bits)
        guard codeBytes == UInt64(expected) else { throw bad("code byte count", "\(codeBytes) should be \(expected) for \(count) \(bits)-bit codes") }
        let packed = Array(try r.take(expected, "codes"))
        let codes: [Int32]
        do {
            codes = try QuantizedTensor.codes(fromPacked: packed, count: count, grid: grid)
        } catch {
            throw bad("codes", error.description)
        }
        let layer = PackedLayer(name: name, weight: QuantizedTensor(
            shape: shape, grid: grid, axis: axis == -1 ? nil : axis, parameters: parameters, codes: codes))
        if let problem = check(layer) { throw problem }
        return layer
    }
}
