/// One decoded field: its number, where its value starts, and the value by wire type.
/// The typed accessors check the wire type against what onnx.proto declares.
public struct ProtobufField: Sendable {
    public enum Value: Sendable, Equatable {
        case varint(UInt64)
        case fixed64(UInt64)
        case lengthDelimited(Range<Int>)
        case fixed32(UInt32)
    }

    public let number: Int
    public let offset: Int
    let bytes: ByteStorage
    public let value: Value

    private func mismatch(_ expected: String) -> ProtobufError {
        let found: Int
        switch value {
        case .varint: found = 0
        case .fixed64: found = 1
        case .lengthDelimited: found = 2
        case .fixed32: found = 5
        }
        return .unexpectedWireType(field: number, expected: expected, found: found, offset: offset)
    }

    /// int64 / uint64 / enum / bool fields (two's complement for negatives, as protobuf encodes them).
    public func int64() throws -> Int64 {
        guard case .varint(let raw) = value else { throw mismatch("varint") }
        return Int64(bitPattern: raw)
    }

    /// int32 / enum fields: a negative int32 is sign-extended to 64 bits on the wire.
    public func int32() throws -> Int32 {
        let wide = try int64()
        guard let narrow = Int32(exactly: wide) else { throw ProtobufError.valueOutOfRange(field: number, offset: offset) }
        return narrow
    }

    public func float() throws -> Float {
        guard case .fixed32(let raw) = value else { throw mismatch("32-bit") }
        return Float(bitPattern: raw)
    }

    public func double() throws -> Double {
        guard case .fixed64(let raw) = value else { throw mismatch("64-bit") }
        return Double(bitPattern: raw)
    }

    public func byteRange() throws -> Range<Int> {
        guard case .lengthDelimited(let range) = value else { throw mismatch("length-delimited") }
        return range
    }

    public func data() throws -> [UInt8] {
        [UInt8](UnsafeRawBufferPointer(rebasing: bytes.buffer[try byteRange()]))
    }

    /// The field's bytes where they are, without a copy (a tensor's raw_data).
    public func slice() throws -> ByteSlice {
        ByteSlice(bytes, try byteRange())
    }

    public func string() throws -> String {
        let range = try byteRange()
        guard let text = String(validating: bytes.buffer[range], as: UTF8.self) else {
            throw ProtobufError.invalidUTF8(field: number, offset: offset)
        }
        return text
    }

    /// A reader over an embedded message.
    public func message() throws -> ProtobufReader {
        ProtobufReader(bytes, range: try byteRange())
    }

    /// Appends a repeated int64/int32 field's values: packed (one length-delimited run of varints)
    /// or unpacked (one varint per field occurrence); parsers must accept both.
    public func appendInt64s(to array: inout [Int64]) throws {
        switch value {
        case .varint(let raw):
            array.append(Int64(bitPattern: raw))
        case .lengthDelimited(let range):
            var reader = ProtobufReader(bytes, range: range)
            while !reader.isAtEnd { array.append(Int64(bitPattern: try reader.readVarint())) }
        default:
            throw mismatch("varint or packed varints")
        }
    }

    public func appendInt32s(to array: inout [Int32]) throws {
        var wide: [Int64] = []
        try appendInt64s(to: &wide)
        for value in wide {
            guard let narrow = Int32(exactly: value) else { throw ProtobufError.valueOutOfRange(field: number, offset: offset) }
            array.append(narrow)
        }
    }

    public func appendFloats(to array: inout [Float]) throws {
        if case .fixed32(let raw) = value { return array.append(Float(bitPattern: raw)) }
        try appendPacked(to: &array, width: 4, expected: "32-bit or packed 32-bit") { Float(bitPattern: $0.littleEndian32(at: $1)) }
    }

    public func appendDoubles(to array: inout [Double]) throws {
        if case .fixed64(let raw) = value { return array.append(Double(bitPattern: raw)) }
        try appendPacked(to: &array, width: 8, expected: "64-bit or packed 64-bit") { Double(bitPattern: $0.littleEndian64(at: $1)) }
    }

    /// A packed run of fixed-width values (`width` bytes each, read by `load` at a byte offset).
    @inline(__always)
    private func appendPacked<T>(to array: inout [T], width: Int, expected: String,
                                 load: (ProtobufReader, Int) -> T) throws {
        guard case .lengthDelimited(let range) = value else { throw mismatch(expected) }
        guard range.count % width == 0 else {
            throw ProtobufError.truncatedField(field: number, offset: offset, needed: (range.count / width + 1) * width,
                                               available: range.count)
        }
        let reader = ProtobufReader(bytes, range: range)
        array.reserveCapacity(array.count + range.count / width)
        for start in stride(from: range.lowerBound, to: range.upperBound, by: width) {
            array.append(load(reader, start))
        }
    }
}
