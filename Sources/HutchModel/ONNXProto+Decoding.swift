/// Decoding of the ONNX messages by the field numbers of onnx.proto (checked against
/// onnx 1.23's onnx/onnx.proto). Unknown fields are skipped, as protobuf requires.
extension ONNXModelProto: ProtobufMessage {
    public init(decoding bytes: [UInt8]) throws {
        try self.init(reader: ProtobufReader(bytes))
    }

    /// Decodes from `storage` in place: tensors' raw_data stay slices of it.
    public init(decoding storage: ByteStorage) throws {
        try self.init(reader: ProtobufReader(storage))
    }

    mutating func decode(_ field: ProtobufField) throws {
        switch field.number {
        case 1: irVersion = try field.int64()
        case 2: producerName = try field.string()
        case 7: graph = try ONNXGraphProto(reader: field.message())
        case 8: opsetImports.append(try ONNXOperatorSetID(reader: field.message()))
        default: break
        }
    }
}

extension ONNXOperatorSetID: ProtobufMessage {
    mutating func decode(_ field: ProtobufField) throws {
        switch field.number {
        case 1: domain = try field.string()
        case 2: version = try field.int64()
        default: break
        }
    }
}

extension ONNXGraphProto: ProtobufMessage {
    mutating func decode(_ field: ProtobufField) throws {
        switch field.number {
        case 1: nodes.append(try ONNXNodeProto(reader: field.message()))
        case 2: name = try field.string()
        case 5: initializers.append(try ONNXTensorProto(reader: field.message()))
        case 11: inputs.append(try ONNXValueInfoProto(reader: field.message()))
        case 12: outputs.append(try ONNXValueInfoProto(reader: field.message()))
        case 13: valueInfo.append(try ONNXValueInfoProto(reader: field.message()))
        default: break
        }
    }
}

extension ONNXNodeProto: ProtobufMessage {
    mutating func decode(_ field: ProtobufField) throws {
        switch field.number {
        case 1: inputs.append(try field.string())
        case 2: outputs.append(try field.string())
        case 3: name = try field.string()
        case 4: opType = try field.string()
        case 5: attributes.append(try ONNXAttributeProto(reader: field.message()))
        case 7: domain = try field.string()
        default: break
        }
    }
}

extension ONNXAttributeProto: ProtobufMessage {
    mutating func decode(_ field: ProtobufField) throws {
        switch field.number {
        case 1: name = try field.string()
        case 2: f = try field.float()
        case 3: i = try field.int64()
        case 4: s = try field.data()
        case 5: t = try ONNXTensorProto(reader: field.message())
        case 7: try field.appendFloats(to: &floats)
        case 8: try field.appendInt64s(to: &ints)
        case 20: type = try field.int32()
        default: break
        }
    }
}

extension ONNXTensorProto: ProtobufMessage {
    mutating func decode(_ field: ProtobufField) throws {
        switch field.number {
        case 1: try field.appendInt64s(to: &dims)
        case 2: dataType = try field.int32()
        case 4: try field.appendFloats(to: &floatData)
        case 5: try field.appendInt32s(to: &int32Data)
        case 7: try field.appendInt64s(to: &int64Data)
        case 8: name = try field.string()
        case 9: rawSlice = try field.slice()
        case 10: try field.appendDoubles(to: &doubleData)
        case 13: externalData.append(try Self.stringPair(field.message()))
        case 14: dataLocation = try field.int32()
        default: break
        }
    }

    /// StringStringEntryProto: key = 1, value = 2.
    private static func stringPair(_ reader: ProtobufReader) throws -> (key: String, value: String) {
        var pair = (key: "", value: "")
        try reader.forEachField { field in
            switch field.number {
            case 1: pair.key = try field.string()
            case 2: pair.value = try field.string()
            default: break
            }
        }
        return pair
    }
}

extension ONNXValueInfoProto: ProtobufMessage {
    mutating func decode(_ field: ProtobufField) throws {
        switch field.number {
        case 1: name = try field.string()
        case 2: try decodeType(field.message())
        default: break
        }
    }

    /// TypeProto: tensor_type = 1 -> TypeProto.Tensor: elem_type = 1, shape = 2.
    private mutating func decodeType(_ reader: ProtobufReader) throws {
        try reader.forEachField { field in
            guard field.number == 1 else { return }
            try field.message().forEachField { inner in
                switch inner.number {
                case 1: elemType = try inner.int32()
                case 2: shape = try Self.decodeShape(inner.message())
                default: break
                }
            }
            if elemType == nil { elemType = 0 }
        }
    }

    /// TensorShapeProto: dim = 1 -> Dimension: dim_value = 1, dim_param = 2.
    private static func decodeShape(_ reader: ProtobufReader) throws -> [Dimension] {
        var dims: [Dimension] = []
        try reader.forEachField { field in
            guard field.number == 1 else { return }
            var dim = Dimension.unknown
            try field.message().forEachField { inner in
                switch inner.number {
                case 1: dim = .value(try inner.int64())
                case 2: dim = .param(try inner.string())
                default: break
                }
            }
            dims.append(dim)
        }
        return dims
    }
}
