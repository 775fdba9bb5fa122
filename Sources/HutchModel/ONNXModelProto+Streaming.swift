/// Writing a model a tensor at a time: protobuf's length-delimited fields need each message's
/// size before its bytes, and a tensor's size is known from its dims and type before its data
/// exists. So the graph's nodes and value infos are encoded in memory (small), and each
/// initializer's data is made (deferred) or copied out when its turn comes: the bytes are
/// exactly `encoded()`'s, without ever holding the whole file.

/// An initializer's raw_data made only when the file is written (e.g. a quantized layer read
/// back from disk); `bytes()` must give exactly `byteCount` bytes.
public struct DeferredTensorData: Sendable {
    public let byteCount: Int
    public let bytes: @Sendable () throws -> [UInt8]

    public init(byteCount: Int, bytes: @escaping @Sendable () throws -> [UInt8]) {
        self.byteCount = byteCount
        self.bytes = bytes
    }
}

/// A deferred tensor gave another number of bytes than it announced (a bug, or a file that
/// changed on disk while the model was written).
public struct DeferredTensorError: Error, CustomStringConvertible {
    public let description: String
}

extension ONNXModelProto {
    /// Writes `encoded()`'s bytes to `sink`; initializers named in `deferred` take their raw_data
    /// from it (their own raw_data is ignored).
    public func stream(deferred: [String: DeferredTensorData] = [:], into sink: inout some ByteSink) throws {
        let (head, graph) = streamedParts(deferred: deferred)
        try sink.write(head)
        guard let graph else { return }
        try sink.write(graph.before)
        for tensor in graph.tensors { try tensor.write(into: &sink) }
        try sink.write(graph.after)
    }

    /// The number of bytes `stream` writes, without making any tensor's data.
    public func streamedByteCount(deferred: [String: DeferredTensorData] = [:]) -> Int {
        let (head, graph) = streamedParts(deferred: deferred)
        return head.count + (graph.map { $0.before.count + $0.tensors.reduce(0) { $0 + Self.fieldBytes($1.bytes) } + $0.after.count } ?? 0)
    }

    /// The fields before the graph's bytes (with its tag and length), and the graph as `stream`
    /// writes it: nodes and names encoded, initializers with their data left where they are.
    private func streamedParts(deferred: [String: DeferredTensorData])
        -> (head: [UInt8], graph: (before: [UInt8], tensors: [StreamedTensor], after: [UInt8])?) {
        var head = ProtobufWriter()
        encodeHead(into: &head)
        guard let graph else { return (head.bytes, nil) }
        var before = ProtobufWriter(), after = ProtobufWriter()
        graph.encodeBeforeInitializers(into: &before)
        graph.encodeAfterInitializers(into: &after)
        let tensors = graph.initializers.map { StreamedTensor($0, $0.usesExternalData ? nil : deferred[$0.name]) }
        let graphBytes = tensors.reduce(before.bytes.count + after.bytes.count) { $0 + Self.fieldBytes($1.bytes) }
        head.tag(7, 2)
        head.varint(UInt64(graphBytes))
        return (head.bytes, (before.bytes, tensors, after.bytes))
    }

    /// A length-delimited field of `n` bytes with a one-byte tag: tag, length, payload.
    static func fieldBytes(_ n: Int) -> Int { 1 + ProtobufWriter.varintBytes(UInt64(n)) + n }
}

/// One initializer as the stream writes it: the fields around raw_data encoded, the data left
/// where it is (in the tensor, or deferred) until written.
struct StreamedTensor {
    var before = ProtobufWriter()
    var after = ProtobufWriter()
    let tensor: ONNXTensorProto
    let deferred: DeferredTensorData?

    init(_ tensor: ONNXTensorProto, _ deferred: DeferredTensorData?) {
        self.tensor = tensor
        self.deferred = deferred
        tensor.encodeBeforeRawData(into: &before)
        tensor.encodeAfterRawData(into: &after)
    }

    var rawByteCount: Int? { deferred?.byteCount ?? tensor.rawSlice?.count }

    /// The TensorProto's size.
    var bytes: Int { before.bytes.count + (rawByteCount.map(ONNXModelProto.fieldBytes) ?? 0) + after.bytes.count }

    /// Raw data held in a slice (a mapped file's) go out at most this many bytes at a time.
    static let chunkBytes = 1 << 20

    func write(into sink: inout some ByteSink) throws {
        var tag = ProtobufWriter()
        tag.tag(5, 2)
        tag.varint(UInt64(bytes))
        try sink.write(tag.bytes + before.bytes)
        if let rawByteCount {
            var field = ProtobufWriter()
            field.tag(9, 2)
            field.varint(UInt64(rawByteCount))
            try sink.write(field.bytes)
            if deferred == nil, let slice = tensor.rawSlice {
                try slice.forEachChunk(maxBytes: Self.chunkBytes) { try sink.write($0) }
                slice.storage.releasePages(slice.range)
            } else {
                try sink.write(try data())
            }
        }
        try sink.write(after.bytes)
    }

    /// The raw_data, made now when deferred.
    func data() throws -> [UInt8] {
        guard let deferred else { return tensor.rawData ?? [] }
        let bytes = try deferred.bytes()
        guard bytes.count == deferred.byteCount else {
            throw DeferredTensorError(description: "tensor '\(tensor.name)': \(bytes.count) bytes of data, \(deferred.byteCount) announced")
        }
        return bytes
    }
}

extension ProtobufWriter {
    /// Bytes `varint(value)` appends.
    static func varintBytes(_ value: UInt64) -> Int {
        var value = value, n = 1
        while value >= 0x80 { value >>= 7; n += 1 }
        return n
    }
}
