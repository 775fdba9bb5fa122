import HutchTensor

/// A value known while loading: an initializer, a Constant node's output, or the result of folding
/// a shape computation. Integer tensors carry shape arithmetic; float tensors become weights.
struct ConstantTensor: Sendable, Equatable {
    enum Elements: Sendable, Equatable {
        case int64([Int64])
        case float([Float])
    }

    /// Stands for the symbolic batch size N inside folded shape vectors (`Shape` of the data
    /// input): it may be moved around by Gather/Concat/Slice/... and multiplied or divided by a
    /// constant (attention folds the heads into it, N * heads), nothing else.
    static let batch = Int64.min
    /// Symbols for N * k, 1 <= k < 2^31, just above `batch`.
    private static let batchFactors: Int64 = 1 << 31

    static func batch(times factor: Int64) -> Int64 { batch + (factor - 1) }

    /// k when `value` stands for N * k.
    static func batchFactor(_ value: Int64) -> Int64? {
        value >= batch && value < batch + batchFactors ? value - batch + 1 : nil
    }

    var shape: [Int]
    var elements: Elements

    var count: Int {
        switch elements {
        case .int64(let values): values.count
        case .float(let values): values.count
        }
    }

    var ints: [Int64]? {
        if case .int64(let values) = elements { return values }
        return nil
    }

    var floats: [Float] {
        switch elements {
        case .float(let values): values
        case .int64(let values): values.map { Float($0) }
        }
    }

    var hasBatchSymbol: Bool { ints?.contains { ConstantTensor.batchFactor($0) != nil } ?? false }

    /// The elements at the given flat indices, under a new shape (Gather, Slice, Transpose-like moves).
    func picking(_ indices: [Int], shape newShape: [Int]) -> ConstantTensor {
        switch elements {
        case .int64(let values): ConstantTensor(shape: newShape, elements: .int64(indices.map { values[$0] }))
        case .float(let values): ConstantTensor(shape: newShape, elements: .float(indices.map { values[$0] }))
        }
    }

    var tensor: Tensor<Float> { Tensor(shape: shape, data: floats) }
}

extension ONNXTensorProto {
    /// The element type, or nil for a value not in TensorProto.DataType.
    var type: DataType? { DataType(rawValue: dataType) }

    /// Decodes the tensor's data (raw_data, an external file's bytes or the typed field, as
    /// onnx.proto stores each type). `source` names the file for messages.
    func constant(source: String, external: ExternalDataFiles?) throws -> ConstantTensor {
        let what = "\(source): tensor '\(name)'"
        if usesExternalData {
            guard let external else {
                throw ModelError.invalidModel("\(what) keeps its data in an external file; load the model from its path so the file beside it can be read")
            }
            return try Self.decodeReleasing(try external.bytes(of: self)) { try decode(raw: $0, what: what) }
        }
        if let rawSlice { return try Self.decodeReleasing(rawSlice) { try decode(raw: $0, what: what) } }
        return try decode(raw: nil, what: what)
    }

    /// `decode` on a slice's bytes, whose mapped pages are released once the values are made
    /// (the graph keeps the values, not the file's bytes).
    private static func decodeReleasing(_ slice: ByteSlice, _ decode: (UnsafeRawBufferPointer) throws -> ConstantTensor) rethrows -> ConstantTensor {
        defer { slice.storage.releasePages(slice.range) }
        return try decode(slice.buffer)
    }

    /// The data from `raw` (raw_data or external bytes) or, without it, the typed field.
    private func decode(raw: UnsafeRawBufferPointer?, what: String) throws -> ConstantTensor {
        var shape: [Int] = []
        var count = 1
        for dim in dims {
            guard dim >= 0, dim <= Int64(Int32.max) else {
                throw ModelError.invalidModel("\(what) has invalid dimension \(dim) in \(dims)")
            }
            shape.append(Int(dim))
            let (product, overflow) = count.multipliedReportingOverflow(by: Int(dim))
            guard !overflow, product <= SizeLimits.initializerElements else { throw ModelError.invalidModel("\(what) is too large (\(dims))") }
            count = product
        }
        let result: ConstantTensor
        switch type {
        case .float where raw != nil:
            // The common case (every PyTorch export): copy little-endian float32 bytes in one go,
            // straight from the file's bytes into the array the graph keeps.
            let raw = raw ?? UnsafeRawBufferPointer(start: nil, count: 0)
            guard raw.count == count * 4 else {
                throw ModelError.invalidModel("\(what) has \(raw.count) bytes of data but its shape \(dims) needs \(count * 4)")
            }
            var values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                if count > 0 { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: raw) }
                initialized = count
            }
            if UInt32(littleEndian: 1) != 1 {   // a big-endian host swaps in place
                for i in values.indices { values[i] = Float(bitPattern: UInt32(littleEndian: values[i].bitPattern)) }
            }
            result = ConstantTensor(shape: shape, elements: .float(values))
        case .float:
            result = ConstantTensor(shape: shape, elements: .float(try fixedWidth(raw, 4, count, what, floatData.count) {
                Float(bitPattern: UInt32(truncatingIfNeeded: $0)) } typed: { floatData }))
        case .double:
            result = ConstantTensor(shape: shape, elements: .float(try fixedWidth(raw, 8, count, what, doubleData.count) {
                Float(Double(bitPattern: $0)) } typed: { doubleData.map(Float.init) }))
        case .float16:
            result = ConstantTensor(shape: shape, elements: .float(try fixedWidth(raw, 2, count, what, int32Data.count) {
                halfToFloat(UInt16(truncatingIfNeeded: $0)) } typed: { int32Data.map { halfToFloat(UInt16(truncatingIfNeeded: $0)) } }))
        case .int64:
            result = ConstantTensor(shape: shape, elements: .int64(try fixedWidth(raw, 8, count, what, int64Data.count) {
                Int64(bitPattern: $0) } typed: { int64Data }))
        case .int32:
            result = ConstantTensor(shape: shape, elements: .int64(try fixedWidth(raw, 4, count, what, int32Data.count) {
                Int64(Int32(bitPattern: UInt32(truncatingIfNeeded: $0))) } typed: { int32Data.map(Int64.init) }))
        case .int8:
            result = ConstantTensor(shape: shape, elements: .int64(try fixedWidth(raw, 1, count, what, int32Data.count) {
                Int64(Int8(bitPattern: UInt8(truncatingIfNeeded: $0))) } typed: { int32Data.map(Int64.init) }))
        case .uint8, .bool:
            result = ConstantTensor(shape: shape, elements: .int64(try fixedWidth(raw, 1, count, what, int32Data.count) {
                Int64($0) } typed: { int32Data.map(Int64.init) }))
        default:
            let typeName = type?.name ?? "\(dataType)"
            throw ModelError.invalidModel("\(what) has data type \(typeName); Hutch reads float, double, float16 and integer tensors")
        }
        return result
    }

    /// Reads `count` little-endian elements of `width` bytes from raw_data, or takes the typed field.
    private func fixedWidth<T>(_ raw: UnsafeRawBufferPointer?, _ width: Int, _ count: Int, _ what: String, _ typedCount: Int,
                               _ convert: (UInt64) -> T, typed: () -> [T]) throws -> [T] {
        if let raw {
            guard raw.count == count * width else {
                throw ModelError.invalidModel("\(what) has \(raw.count) bytes of data but its shape \(dims) needs \(count * width)")
            }
            var values: [T] = []
            values.reserveCapacity(count)
            for index in 0..<count {
                var bits: UInt64 = 0
                for byte in 0..<width { bits |= UInt64(raw[index * width + byte]) << (8 * UInt64(byte)) }
                values.append(convert(bits))
            }
            return values
        }
        guard typedCount == count else {
            throw ModelError.invalidModel("\(what) has \(typedCount) values but its shape \(dims) needs \(count)")
        }
        return typed()
    }
}

/// IEEE 754 binary16 to binary32 (float16 initializers are widened, Hutch computes in float32).
func halfToFloat(_ half: UInt16) -> Float {
    let sign = UInt32(half >> 15) << 31
    let exponent = Int((half >> 10) & 0x1F)
    let mantissa = UInt32(half & 0x3FF)
    if exponent == 0 {
        let magnitude = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
        return sign == 0 ? magnitude : -magnitude
    }
    if exponent == 31 {
        return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
    }
    return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
}
