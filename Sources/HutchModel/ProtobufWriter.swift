/// The protobuf encoder: fields are appended in call order (proto wire format; any order is
/// valid). `ONNXProto+Encoding` writes models with it, and tests build exact (good or broken)
/// inputs field by field.
public struct ProtobufWriter: Sendable {
    public var bytes: [UInt8] = []

    public init() {}

    public mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    public mutating func tag(_ field: Int, _ wireType: Int) {
        varint(UInt64(field << 3 | wireType))
    }

    public mutating func int(_ field: Int, _ value: Int64) {
        tag(field, 0)
        varint(UInt64(bitPattern: value))
    }

    public mutating func float(_ field: Int, _ value: Float) {
        tag(field, 5)
        fixed32(value.bitPattern)
    }

    public mutating func double(_ field: Int, _ value: Double) {
        tag(field, 1)
        let bits = value.bitPattern
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
    }

    public mutating func fixed32(_ bits: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: bits >> UInt32(shift))) }
    }

    public mutating func data(_ field: Int, _ payload: some Collection<UInt8>) {
        tag(field, 2)
        varint(UInt64(payload.count))
        // contiguous payloads (arrays, raw data slices) are appended as one copy
        if payload.withContiguousStorageIfAvailable({ bytes.append(contentsOf: $0) }) == nil { bytes.append(contentsOf: payload) }
    }

    public mutating func string(_ field: Int, _ text: String) {
        data(field, Array(text.utf8))
    }

    public mutating func message(_ field: Int, _ build: (inout ProtobufWriter) -> Void) {
        var inner = ProtobufWriter()
        build(&inner)
        data(field, inner.bytes)
    }

    public mutating func packedInt64s(_ field: Int, _ values: [Int64]) {
        var inner = ProtobufWriter()
        for value in values { inner.varint(UInt64(bitPattern: value)) }
        data(field, inner.bytes)
    }

    public mutating func packedFloats(_ field: Int, _ values: [Float]) {
        var inner = ProtobufWriter()
        for value in values { inner.fixed32(value.bitPattern) }
        data(field, inner.bytes)
    }
}

extension ProtobufWriter {
    public mutating func packedDoubles(_ field: Int, _ values: [Double]) {
        var inner = ProtobufWriter()
        for value in values {
            let bits = value.bitPattern
            for shift in stride(from: 0, to: 64, by: 8) { inner.bytes.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
        }
        data(field, inner.bytes)
    }

    /// Packed int32 values: each sign-extended to 64 bits, as protobuf encodes int32.
    public mutating func packedInt32s(_ field: Int, _ values: [Int32]) {
        packedInt64s(field, values.map(Int64.init))
    }
}
