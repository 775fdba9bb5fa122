/// Why a byte string is not a well-formed protobuf message. Offsets are byte offsets from the
/// start of the outermost buffer, so a message can point at the damage.
public enum ProtobufError: Error, Equatable, CustomStringConvertible {
    case truncatedVarint(offset: Int)
    case varintTooLong(offset: Int)
    case truncatedField(field: Int, offset: Int, needed: Int, available: Int)
    case invalidWireType(field: Int, wireType: Int, offset: Int)
    case unexpectedWireType(field: Int, expected: String, found: Int, offset: Int)
    case invalidFieldNumber(offset: Int)
    case invalidUTF8(field: Int, offset: Int)
    case valueOutOfRange(field: Int, offset: Int)

    public var description: String {
        switch self {
        case .truncatedVarint(let offset):
            "varint truncated at byte \(offset)"
        case .varintTooLong(let offset):
            "varint longer than 10 bytes at byte \(offset)"
        case .truncatedField(let field, let offset, let needed, let available):
            "field \(field) at byte \(offset) needs \(needed) bytes but only \(available) remain"
        case .invalidWireType(let field, let wireType, let offset):
            "field \(field) at byte \(offset) has invalid or unsupported wire type \(wireType)"
        case .unexpectedWireType(let field, let expected, let found, let offset):
            "field \(field) at byte \(offset) has wire type \(found), expected \(expected)"
        case .invalidFieldNumber(let offset):
            "field number 0 at byte \(offset)"
        case .invalidUTF8(let field, let offset):
            "field \(field) at byte \(offset) is not valid UTF-8"
        case .valueOutOfRange(let field, let offset):
            "field \(field) at byte \(offset) holds a value out of range"
        }
    }
}
