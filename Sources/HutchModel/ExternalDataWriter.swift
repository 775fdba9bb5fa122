/// Writing a model whose tensors would pass protobuf's 2 GiB limit: large initializers go to a
/// side file beside the model (ONNX external data: `location`, `offset`, `length`), which
/// onnxruntime and Hutch's own loader (`ExternalDataFiles`) read back.
extension ONNXModelProto {
    /// Protobuf refuses messages of 2 GiB and more.
    public static let protobufLimit = Int(Int32.max)

    /// The bytes of initializer data held inline (raw, float or int64 fields).
    public var inlineTensorBytes: Int {
        (graph?.initializers ?? []).reduce(0) { $0 + ($1.inlineBytes?.count ?? 0) }
    }

    /// This model with every initializer of at least `minimumBytes` moved to the side file
    /// `location` (a file name, resolved beside the model), and that file's bytes. Offsets are
    /// multiples of 64 so the file can be mapped and read in place.
    public func externalized(location: String, minimumBytes: Int = 1024) -> (model: ONNXModelProto, data: [UInt8]) {
        var model = self
        var data: [UInt8] = []
        guard var graph = model.graph else { return (model, data) }
        for index in graph.initializers.indices {
            guard let bytes = graph.initializers[index].inlineBytes, bytes.count >= minimumBytes else { continue }
            data += [UInt8](repeating: 0, count: (64 - data.count % 64) % 64)
            let offset = data.count
            data += bytes
            var tensor = graph.initializers[index]
            (tensor.rawData, tensor.floatData, tensor.int64Data) = (nil, [], [])
            tensor.dataLocation = 1
            tensor.externalData = [("location", location), ("offset", String(offset)), ("length", String(bytes.count))]
            graph.initializers[index] = tensor
        }
        model.graph = graph
        return (model, data)
    }
}

extension ONNXTensorProto {
    /// The tensor's data as raw little-endian bytes, when it is held inline in a field that
    /// maps to them one to one (raw, float or int64); nil otherwise.
    public var inlineBytes: [UInt8]? {
        guard !usesExternalData else { return nil }
        if let rawData { return rawData }
        if !floatData.isEmpty { return floatData.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian) { Array($0) } } }
        if !int64Data.isEmpty { return int64Data.flatMap { withUnsafeBytes(of: $0.littleEndian) { Array($0) } } }
        return nil
    }
}
