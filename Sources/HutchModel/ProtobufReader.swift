/// A hand-written reader of the protobuf wire format (varints, tags, length-delimited fields).
/// It walks the fields of one message within `storage[start..<end]`; nested messages are read by
/// sub-readers over the same storage (no copies; a mapped model file is read in place). Every
/// length is checked against the end of the enclosing message: malformed input throws
/// `ProtobufError`, it never traps.
public struct ProtobufReader: Sendable {
    public let storage: ByteStorage
    public private(set) var position: Int
    public let end: Int

    /// Over a copy of `bytes`.
    public init(_ bytes: [UInt8]) {
        self.init(ByteStorage(copying: bytes))
    }

    public init(_ storage: ByteStorage) {
        self.init(storage, range: 0..<storage.count)
    }

    init(_ storage: ByteStorage, range: Range<Int>) {
        self.storage = storage
        self.position = range.lowerBound
        self.end = range.upperBound
    }

    public var isAtEnd: Bool { position >= end }

    /// The next field of this message, or nil at its end.
    public mutating func next() throws -> ProtobufField? {
        guard position < end else { return nil }
        let tagOffset = position
        let key = try readVarint()
        let wire = Int(key & 7)
        let numberBits = key >> 3
        guard numberBits > 0 else { throw ProtobufError.invalidFieldNumber(offset: tagOffset) }
        guard numberBits <= UInt64(Int32.max) else { throw ProtobufError.valueOutOfRange(field: 0, offset: tagOffset) }
        let number = Int(numberBits)
        let valueOffset = position
        switch wire {
        case 0:
            return ProtobufField(number: number, offset: valueOffset, bytes: storage, value: .varint(try readVarint()))
        case 1:
            let raw = try take(8, field: number)
            return ProtobufField(number: number, offset: valueOffset, bytes: storage, value: .fixed64(littleEndian64(at: raw.lowerBound)))
        case 2:
            let length = try readVarint()
            guard length <= UInt64(end - position) else {
                throw ProtobufError.truncatedField(field: number, offset: valueOffset,
                                                   needed: length > UInt64(Int.max) ? Int.max : Int(length),
                                                   available: end - position)
            }
            let range = try take(Int(length), field: number)
            return ProtobufField(number: number, offset: valueOffset, bytes: storage, value: .lengthDelimited(range))
        case 5:
            let raw = try take(4, field: number)
            return ProtobufField(number: number, offset: valueOffset, bytes: storage, value: .fixed32(littleEndian32(at: raw.lowerBound)))
        default:
            // 3 and 4 are the deprecated groups (never used by onnx.proto); 6 and 7 do not exist.
            throw ProtobufError.invalidWireType(field: number, wireType: wire, offset: tagOffset)
        }
    }

    mutating func readVarint() throws -> UInt64 {
        let start = position
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw ProtobufError.truncatedVarint(offset: start) }
            let byte = storage.buffer[position]
            position += 1
            if shift == 63 && byte > 1 { throw ProtobufError.varintTooLong(offset: start) }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw ProtobufError.varintTooLong(offset: start) }
        }
    }

    private mutating func take(_ count: Int, field: Int) throws -> Range<Int> {
        guard count >= 0, count <= end - position else {
            throw ProtobufError.truncatedField(field: field, offset: position, needed: count, available: end - position)
        }
        defer { position += count }
        return position..<(position + count)
    }

    func littleEndian32(at offset: Int) -> UInt32 {
        UInt32(littleEndian: storage.buffer.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    func littleEndian64(at offset: Int) -> UInt64 {
        UInt64(littleEndian32(at: offset)) | UInt64(littleEndian32(at: offset + 4)) << 32
    }
}
