/// Writing a model whose tensors would pass protobuf's 2 GiB limit: large initializers go to a
/// side file beside the model (ONNX external data: `location`, `offset`, `length`), which
/// onnxruntime and Hutch's own loader (`ExternalDataFiles`) read back.
extension ONNXModelProto {
    /// Protobuf refuses messages of 2 GiB and more.
    public static let protobufLimit = Int(Int32.max)

    /// The bytes of initializer data held inline (raw, float or int64 fields), or deferred.
    public func inlineTensorBytes(deferred: [String: DeferredTensorData] = [:]) -> Int {
        (graph?.initializers ?? []).reduce(0) { $0 + (deferred[$1.name]?.byteCount ?? $1.inlineByteCount ?? 0) }
    }

    /// This model with every initializer of at least `minimumBytes` moved to the side file
    /// `location` (a file name, resolved beside the model), and that file's bytes. Offsets are
    /// multiples of 64 so the file can be mapped and read in place.
    public func externalized(location: String, minimumBytes: Int = 1024) -> (model: ONNXModelProto, data: [UInt8]) {
        var data = ByteArraySink()
        let model = externalized(location: location, minimumBytes: minimumBytes, count: \.inlineByteCount,
                                 bytes: { $0.inlineBytes ?? [] }, write: { data.write($0) })
        return (model, data.bytes)
    }

    /// `externalized`, a tensor at a time: the side file's bytes go to `sink` as each tensor's
    /// turn comes (deferred tensors made then), and the model returned holds no moved data.
    public func externalized(location: String, minimumBytes: Int = 1024, deferred: [String: DeferredTensorData],
                             into sink: inout some ByteSink) throws -> ONNXModelProto {
        try externalized(location: location, minimumBytes: minimumBytes, count: { deferred[$0.name]?.byteCount ?? $0.inlineByteCount },
                         bytes: { t in try deferred[t.name].map { try StreamedTensor(t, $0).data() } ?? t.inlineBytes ?? [] },
                         write: { try sink.write($0) })
    }

    private func externalized(location: String, minimumBytes: Int, count: (ONNXTensorProto) -> Int?,
                              bytes: (ONNXTensorProto) throws -> [UInt8], write: ([UInt8]) throws -> Void) rethrows -> ONNXModelProto {
        var model = self
        guard var graph = model.graph else { return model }
        var offset = 0
        for index in graph.initializers.indices {
            var tensor = graph.initializers[index]
            guard !tensor.usesExternalData, let n = count(tensor), n >= minimumBytes else { continue }
            let padding = (64 - offset % 64) % 64
            try write([UInt8](repeating: 0, count: padding))
            offset += padding
            try write(try bytes(tensor))
            (tensor.rawData, tensor.floatData, tensor.int64Data) = (nil, [], [])
            tensor.dataLocation = 1
            tensor.externalData = [("location", location), ("offset", String(offset)), ("length", String(n))]
            graph.initializers[index] = tensor
            offset += n
        }
        model.graph = graph
        return model
    }
}

extension ONNXTensorProto {
    /// The tensor's data as raw little-endian bytes, when it is held inline in a field that
    /// maps to them one to one (raw, float or int64); nil otherwise.
    public var inlineBytes: [UInt8]? {
        guard !usesExternalData else { return nil }
        if let rawSlice { return [UInt8](rawSlice.buffer) }
        if !floatData.isEmpty { return floatData.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian) { Array($0) } } }
        if !int64Data.isEmpty { return int64Data.flatMap { withUnsafeBytes(of: $0.littleEndian) { Array($0) } } }
        return nil
    }

    /// `inlineBytes.count`, without making them.
    public var inlineByteCount: Int? {
        guard !usesExternalData else { return nil }
        if let rawSlice { return rawSlice.count }
        if !floatData.isEmpty { return floatData.count * 4 }
        if !int64Data.isEmpty { return int64Data.count * 8 }
        return nil
    }
}
