import Foundation

extension PackedWeightFile {
    /// The file's bytes. Throws for invalid layers (empty or duplicate names, inconsistent shapes,
    /// non-positive scales, off-grid codes); `file` only names the destination in messages.
    public static func encode(_ layers: [PackedLayer], file: String = "packed weights") throws(PackedWeightFileError) -> [UInt8] {
        var names = Set<String>()
        var out = ByteWriter()
        out.raw(magic)
        out.u32(version)
        out.u32(UInt32(layers.count))
        out.u64(0)  // total length, patched below
        for layer in layers {
            if let problem = check(layer) { throw PackedWeightFileError(file: file, problem) }
            guard names.insert(layer.name).inserted else {
                throw PackedWeightFileError(file: file, .invalidField(layer: layer.name, field: "name", reason: "appears twice; layer names must be unique"))
            }
            let w = layer.weight
            let packed: [UInt8]
            do {
                packed = try w.packedCodes()
            } catch {
                throw PackedWeightFileError(file: file, .invalidField(layer: layer.name, field: "codes", reason: error.description))
            }
            out.u32(UInt32(layer.name.utf8.count))
            out.raw(Array(layer.name.utf8))
            out.u8(UInt8(w.bits))
            out.u8(w.grid.scheme.fileCode)
            out.i32(Int32(w.axis ?? -1))
            out.u32(UInt32(w.shape.count))
            for d in w.shape { out.u64(UInt64(d)) }
            for p in w.parameters { out.f32(p.scale) }
            for p in w.parameters { out.i32(p.zeroPoint) }
            out.u64(UInt64(packed.count))
            out.raw(packed)
        }
        out.patchU64(UInt64(out.bytes.count + trailerSize), at: 16)
        out.u32(CRC32.checksum(out.bytes[...]))
        return out.bytes
    }

    /// Writes atomically: to a temporary file in the same directory, then renamed over `url`,
    /// so a failure never leaves a half-written file.
    public static func write(_ layers: [PackedLayer], to url: URL) throws(PackedWeightFileError) {
        let bytes = try encode(layers, file: url.path)
        do {
            try Data(bytes).write(to: url, options: .atomic)
        } catch {
            throw PackedWeightFileError(file: url.path, .io("cannot write: \(error.localizedDescription)"))
        }
    }
}
