/// An n-dimensional array as stored in a .npy file: dtype, C-order shape, little-endian bytes.
public struct NumPyArray: Sendable, Equatable {
    public enum DType: String, Sendable, CaseIterable {
        case float32 = "<f4", float64 = "<f8", int64 = "<i8", int32 = "<i4", int16 = "<i2", int8 = "|i1", uint8 = "|u1"

        public var size: Int {
            switch self {
            case .float64, .int64: 8
            case .float32, .int32: 4
            case .int16: 2
            case .int8, .uint8: 1
            }
        }

        public var isInteger: Bool { self != .float32 && self != .float64 }

        /// NumPy's name ("float32"), for messages.
        public var name: String { "\(self)" }
    }

    public var dtype: DType
    public var shape: [Int]
    /// Little-endian element bytes in C order; count == shape product * dtype.size.
    public var bytes: [UInt8]

    public var count: Int { shape.reduce(1, *) }

    /// Creates an array from raw bytes; nil when the byte count does not match the shape.
    public init?(dtype: DType, shape: [Int], bytes: [UInt8]) {
        guard Self.byteCount(dtype: dtype, shape: shape) == bytes.count else { return nil }
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    /// The data bytes of an array of this dtype and shape; nil for a negative dimension or past Int.max.
    static func byteCount(dtype: DType, shape: [Int]) -> Int? {
        guard shape.allSatisfy({ $0 >= 0 }) else { return nil }
        var count = 1
        for dim in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            guard !overflow else { return nil }
            count = product
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.size)
        return overflow ? nil : bytes
    }

    public init(shape: [Int], float32 values: [Float]) {
        self.dtype = .float32
        self.shape = shape
        self.bytes = values.flatMap { littleEndianBytes(UInt64($0.bitPattern), 4) }
        precondition(values.count == count, "values do not match shape \(shape)")
    }

    public init(shape: [Int], float64 values: [Double]) {
        self.dtype = .float64
        self.shape = shape
        self.bytes = values.flatMap { littleEndianBytes($0.bitPattern, 8) }
        precondition(values.count == count, "values do not match shape \(shape)")
    }

    /// An integer array of the given integer dtype (values are truncated to its width).
    public init(shape: [Int], integers values: [Int64], dtype: DType = .int64) {
        precondition(dtype.isInteger, "\(dtype) is not an integer dtype")
        self.dtype = dtype
        self.shape = shape
        self.bytes = values.flatMap { littleEndianBytes(UInt64(bitPattern: $0), dtype.size) }
        precondition(values.count == count, "values do not match shape \(shape)")
    }

    /// The elements as Float (float64 and integers converted).
    public func floats() -> [Float] {
        bytes.withUnsafeBytes { raw in
            (0..<count).map { index in
                let offset = index * dtype.size
                switch dtype {
                case .float32: return Float(bitPattern: UInt32(truncatingIfNeeded: load(raw, offset, 4)))
                case .float64: return Float(Double(bitPattern: load(raw, offset, 8)))
                default: return Float(integer(raw, offset))
                }
            }
        }
    }

    /// The elements as Double (float32 widened exactly, integers converted).
    public func doubles() -> [Double] {
        guard dtype == .float64 else { return floats().map(Double.init) }
        return bytes.withUnsafeBytes { raw in
            (0..<count).map { Double(bitPattern: load(raw, $0 * 8, 8)) }
        }
    }

    /// The elements as Int64, or nil for a float dtype.
    public func integers() -> [Int64]? {
        guard dtype.isInteger else { return nil }
        return bytes.withUnsafeBytes { raw in (0..<count).map { integer(raw, $0 * dtype.size) } }
    }

    /// The index of the first NaN or infinity, or nil (always nil for integers).
    public func firstNonFinite() -> Int? {
        guard !dtype.isInteger else { return nil }
        return bytes.withUnsafeBytes { raw in
            (0..<count).first { index in
                let offset = index * dtype.size
                return dtype == .float32 ? !Float(bitPattern: UInt32(truncatingIfNeeded: load(raw, offset, 4))).isFinite
                                         : !Double(bitPattern: load(raw, offset, 8)).isFinite
            }
        }
    }

    private func integer(_ raw: UnsafeRawBufferPointer, _ offset: Int) -> Int64 {
        let bits = load(raw, offset, dtype.size)
        switch dtype {
        case .int64: return Int64(bitPattern: bits)
        case .int32: return Int64(Int32(bitPattern: UInt32(truncatingIfNeeded: bits)))
        case .int16: return Int64(Int16(bitPattern: UInt16(truncatingIfNeeded: bits)))
        case .int8: return Int64(Int8(bitPattern: UInt8(truncatingIfNeeded: bits)))
        default: return Int64(bits)
        }
    }
}

private func load(_ raw: UnsafeRawBufferPointer, _ offset: Int, _ width: Int) -> UInt64 {
    var bits: UInt64 = 0
    for byte in 0..<width { bits |= UInt64(raw[offset + byte]) << UInt64(8 * byte) }
    return bits
}

func littleEndianBytes(_ value: UInt64, _ width: Int) -> [UInt8] {
    (0..<width).map { UInt8(truncatingIfNeeded: value >> UInt64(8 * $0)) }
}
