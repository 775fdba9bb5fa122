/// Encoding of the ONNX messages: every field `ONNXProto+Decoding` keeps, under the same field
/// numbers, so decode(encode(m)) == m. Repeated numeric fields are written packed (parsers
/// accept packed and unpacked alike). Defaults that decode to the same value are left out.
extension ONNXModelProto {
    public func encoded() -> [UInt8] {
        var writer = ProtobufWriter()
        encodeHead(into: &writer)
        if let graph { writer.message(7) { graph.encode(into: &$0) } }
        return writer.bytes
    }

    /// The fields before the graph (`ONNXModelProto.stream` writes them the same way).
    func encodeHead(into writer: inout ProtobufWriter) {
        writer.int(1, irVersion)
        for opset in opsetImports {
            writer.message(8) { w in
                if !opset.domain.isEmpty { w.string(1, opset.domain) }
                w.int(2, opset.version)
            }
        }
        if !producerName.isEmpty { writer.string(2, producerName) }
    }
}

extension ONNXGraphProto {
    func encode(into writer: inout ProtobufWriter) {
        encodeBeforeInitializers(into: &writer)
        for tensor in initializers { writer.message(5) { tensor.encode(into: &$0) } }
        encodeAfterInitializers(into: &writer)
    }

    func encodeBeforeInitializers(into writer: inout ProtobufWriter) {
        for node in nodes { writer.message(1) { node.encode(into: &$0) } }
        if !name.isEmpty { writer.string(2, name) }
    }

    func encodeAfterInitializers(into writer: inout ProtobufWriter) {
        for info in inputs { writer.message(11) { info.encode(into: &$0) } }
        for info in outputs { writer.message(12) { info.encode(into: &$0) } }
        for info in valueInfo { writer.message(13) { info.encode(into: &$0) } }
    }
}

extension ONNXNodeProto {
    func encode(into writer: inout ProtobufWriter) {
        for input in inputs { writer.string(1, input) }
        for output in outputs { writer.string(2, output) }
        if !name.isEmpty { writer.string(3, name) }
        writer.string(4, opType)
        for attribute in attributes { writer.message(5) { attribute.encode(into: &$0) } }
        if !domain.isEmpty { writer.string(7, domain) }
    }
}

extension ONNXAttributeProto {
    func encode(into writer: inout ProtobufWriter) {
        writer.string(1, name)
        if let f { writer.float(2, f) }
        if let i { writer.int(3, i) }
        if let s { writer.data(4, s) }
        if let t { writer.message(5) { t.encode(into: &$0) } }
        if !floats.isEmpty { writer.packedFloats(7, floats) }
        if !ints.isEmpty { writer.packedInt64s(8, ints) }
        writer.int(20, Int64(type))
    }
}

extension ONNXTensorProto {
    func encode(into writer: inout ProtobufWriter) {
        encodeBeforeRawData(into: &writer)
        if let rawSlice { writer.data(9, rawSlice) }
        encodeAfterRawData(into: &writer)
    }

    /// The fields before raw_data (9) and after it: the streaming writer puts the raw data
    /// between them without holding it with the rest.
    func encodeBeforeRawData(into writer: inout ProtobufWriter) {
        if !dims.isEmpty { writer.packedInt64s(1, dims) }
        writer.int(2, Int64(dataType))
        if !floatData.isEmpty { writer.packedFloats(4, floatData) }
        if !int32Data.isEmpty { writer.packedInt32s(5, int32Data) }
        if !int64Data.isEmpty { writer.packedInt64s(7, int64Data) }
        if !name.isEmpty { writer.string(8, name) }
    }

    func encodeAfterRawData(into writer: inout ProtobufWriter) {
        if !doubleData.isEmpty { writer.packedDoubles(10, doubleData) }
        for entry in externalData {
            writer.message(13) { w in
                w.string(1, entry.key)
                w.string(2, entry.value)
            }
        }
        if dataLocation != 0 { writer.int(14, Int64(dataLocation)) }
    }
}

extension ONNXValueInfoProto {
    func encode(into writer: inout ProtobufWriter) {
        writer.string(1, name)
        guard let elemType else { return }
        // TypeProto { tensor_type = 1: TypeProto.Tensor { elem_type = 1, shape = 2 } }
        writer.message(2) { type in
            type.message(1) { tensor in
                tensor.int(1, Int64(elemType))
                if let shape {
                    tensor.message(2) { shapeWriter in
                        for dim in shape {
                            shapeWriter.message(1) { d in
                                switch dim {
                                case .value(let v): d.int(1, v)
                                case .param(let p): d.string(2, p)
                                case .unknown: break
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
