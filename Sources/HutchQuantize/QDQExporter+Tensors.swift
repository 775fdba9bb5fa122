import HutchModel

/// TensorProto pieces of the QDQ export: integer containers and little-endian raw data.
enum QDQElementType: Int32, Sendable {
    case uint8 = 2, int8 = 3, uint16 = 4, int16 = 5, int32 = 6, uint4 = 21, int4 = 22

    var bits: Int {
        switch self {
        case .uint4, .int4: 4
        case .uint8, .int8: 8
        case .uint16, .int16: 16
        case .int32: 32
        }
    }

    /// Little-endian raw_data; 4-bit values two per byte, the first in the low nibble (onnx.proto).
    func raw(_ values: [Int32]) -> [UInt8] {
        switch self {
        case .int4, .uint4:
            var bytes = [UInt8](repeating: 0, count: (values.count + 1) / 2)
            for (i, v) in values.enumerated() {
                let nibble = UInt8(truncatingIfNeeded: v) & 0x0F
                bytes[i / 2] |= i % 2 == 0 ? nibble : nibble << 4
            }
            return bytes
        default:
            let width = bits / 8
            var bytes: [UInt8] = []
            bytes.reserveCapacity(values.count * width)
            for v in values {
                let u = UInt32(bitPattern: v)
                for k in 0..<width { bytes.append(UInt8(truncatingIfNeeded: u >> UInt32(8 * k))) }
            }
            return bytes
        }
    }
}

extension ONNXTensorProto {
    static func integers(_ name: String, dims: [Int], type: QDQElementType, _ values: [Int32]) -> ONNXTensorProto {
        var t = ONNXTensorProto()
        t.name = name
        t.dims = dims.map(Int64.init)
        t.dataType = type.rawValue
        t.rawData = type.raw(values)
        return t
    }

    public static func floats(_ name: String, dims: [Int], _ values: [Float]) -> ONNXTensorProto {
        var t = ONNXTensorProto()
        t.name = name
        t.dims = dims.map(Int64.init)
        t.dataType = ONNXTensorProto.DataType.float.rawValue
        t.rawData = values.flatMap { v -> [UInt8] in
            let bits = v.bitPattern
            return [0, 8, 16, 24].map { UInt8(truncatingIfNeeded: bits >> UInt32($0)) }
        }
        return t
    }
}

extension ONNXNodeProto {
    static func make(_ opType: String, name: String, inputs: [String], outputs: [String], axis: Int? = nil) -> ONNXNodeProto {
        var node = ONNXNodeProto()
        node.opType = opType
        node.name = name
        node.inputs = inputs
        node.outputs = outputs
        if let axis {
            var attribute = ONNXAttributeProto()
            attribute.name = "axis"
            attribute.type = ONNXAttributeProto.Kind.int.rawValue
            attribute.i = Int64(axis)
            node.attributes = [attribute]
        }
        return node
    }
}
