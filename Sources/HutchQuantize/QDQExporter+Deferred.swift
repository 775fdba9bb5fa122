import HutchModel

extension QDQExporter {
    /// `export`'s model with each quantized weight's integer data left to be made when the file
    /// is written (`ONNXModelProto.stream`): `codes(i)` gives layer i's codes then, one layer at a
    /// time, so neither the exported model nor the file's bytes hold every layer at once. The
    /// layers of `model` need their shape, grid, axis and parameters; their codes may be empty
    /// (the cluster job reads them back from its state directory instead).
    public static func exportDeferred(_ model: QuantizedModel, original: ONNXModelProto, source: String, narrowActivations: Bool = false,
                                      codes: @escaping @Sendable (Int) throws -> [Int32])
        throws(ExportError) -> (model: ONNXModelProto, deferred: [String: DeferredTensorData]) {
        var headers = model
        for i in headers.layers.indices { headers.layers[i].weight.codes = [] }
        let exported = try export(headers, original: original, source: source, narrowActivations: narrowActivations)
        let initializers = Dictionary((exported.graph?.initializers ?? []).map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var deferred: [String: DeferredTensorData] = [:]
        for (i, layer) in model.layers.enumerated() {
            let name = layer.weightName + "_hutch_quantized"
            guard let tensor = initializers[name], let type = QDQElementType(rawValue: tensor.dataType) else {
                throw ExportError(.model, "\(source): layer '\(layer.node)': the export has no integer initializer '\(name)'")
            }
            let count = layer.weight.shape.reduce(1, *)
            deferred[name] = DeferredTensorData(byteCount: type.rawBytes(count: count)) {
                let values = try codes(i)
                guard values.count == count else {
                    throw ExportError(.model, "\(source): layer '\(layer.node)': \(values.count) codes read back, its weight has \(count)")
                }
                return type.raw(values)
            }
        }
        return (exported, deferred)
    }
}

extension QDQElementType {
    /// `raw(values).count` for `count` values.
    func rawBytes(count: Int) -> Int {
        bits == 4 ? (count + 1) / 2 : count * bits / 8
    }
}
