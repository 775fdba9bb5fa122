/// One named quantized weight in a packed weight file (the name is the ONNX initializer name).
public struct PackedLayer: Sendable, Equatable {
    public var name: String
    public var weight: QuantizedTensor

    public init(name: String, weight: QuantizedTensor) {
        self.name = name
        self.weight = weight
    }
}

/// The packed weight file (".hutchq"): bit-packed codes plus scales and zero points, the true
/// compressed size of a quantized model. Layout in Protocols/packed-weights.md.
public enum PackedWeightFile {
    public static let magic: [UInt8] = Array("HUTCHQW".utf8) + [0]
    public static let version: UInt32 = 1
    static let headerSize = 24
    static let trailerSize = 4
    static let maxNameBytes = 65_535
    static let maxRank = 8
    static let maxElements = 1 << 48

    /// Validation shared by writer and reader, so both enforce the same rules.
    static func check(_ layer: PackedLayer) -> PackedWeightFileError.Problem? {
        let w = layer.weight
        func bad(_ field: String, _ reason: String) -> PackedWeightFileError.Problem {
            .invalidField(layer: layer.name, field: field, reason: reason)
        }
        let nameBytes = layer.name.utf8.count
        guard nameBytes >= 1, nameBytes <= maxNameBytes else { return bad("name", "must be 1...\(maxNameBytes) UTF-8 bytes") }
        guard (1...maxRank).contains(w.shape.count), w.shape.allSatisfy({ $0 >= 1 }) else {
            return bad("shape", "\(w.shape) must have rank 1...\(maxRank) and positive dimensions")
        }
        guard w.shape.reduce(1, *) == w.codes.count else { return bad("codes", "count \(w.codes.count) does not match shape \(w.shape)") }
        let channels: Int
        if let axis = w.axis {
            guard axis >= 0, axis < w.shape.count else { return bad("axis", "\(axis) is outside shape \(w.shape)") }
            channels = w.shape[axis]
        } else {
            channels = 1
        }
        guard w.parameters.count == channels else { return bad("scales", "has \(w.parameters.count) entries for \(channels) channels") }
        for (c, p) in w.parameters.enumerated() {
            guard p.scale.isFinite, p.scale > 0 else { return bad("scales[\(c)]", "is \(p.scale); scales must be positive and finite") }
            let zeroOK = w.grid.scheme == .symmetric ? p.zeroPoint == 0 : (w.grid.minCode...w.grid.maxCode).contains(p.zeroPoint)
            guard zeroOK else { return bad("zero_points[\(c)]", "is \(p.zeroPoint), outside what \(w.grid.scheme) \(w.grid.bits)-bit allows") }
        }
        return nil
    }
}

extension QuantizationScheme {
    var fileCode: UInt8 { self == .symmetric ? 0 : 1 }
    init?(fileCode: UInt8) {
        switch fileCode {
        case 0: self = .symmetric
        case 1: self = .asymmetric
        default: return nil
        }
    }
}
