/// Why a list of frames is not a valid message (or a message value cannot be encoded). Every case
/// names the command and field where it can, so a log line says what to fix.
public enum WireError: Error, Hashable, Sendable, CustomStringConvertible {
    case noFrames
    case tooManyFrames(count: Int, limit: Int)
    case frameTooLarge(index: Int, bytes: Int, limit: Int)
    case badSignature
    case unsupportedVersion(UInt8)
    case badCommandFrame(bytes: Int)
    case unknownCommand(UInt8)
    case missingField(WireCommand, field: String)
    case extraFrames(WireCommand, count: Int)
    case wrongFieldLength(WireCommand, field: String, expected: Int, actual: Int)
    case fieldLength(WireCommand, field: String, bytes: Int, allowed: ClosedRange<Int>)
    case misaligned(WireCommand, field: String, bytes: Int, element: Int)
    case valueOutOfRange(WireCommand, field: String, value: UInt64, allowed: ClosedRange<UInt64>)
    case unknownValue(WireCommand, field: String, value: UInt64)
    case invalidUTF8(WireCommand, field: String)
    case controlCharacter(WireCommand, field: String)
    case nonFinite(WireCommand, field: String, index: Int)
    case inconsistent(WireCommand, field: String, detail: String)

    /// The command the bad message claimed to be, when it got that far (for ERROR replies).
    public var command: WireCommand? {
        switch self {
        case .noFrames, .tooManyFrames, .frameTooLarge, .badSignature, .unsupportedVersion,
             .badCommandFrame, .unknownCommand:
            nil
        case .missingField(let c, _), .extraFrames(let c, _), .wrongFieldLength(let c, _, _, _),
             .fieldLength(let c, _, _, _), .misaligned(let c, _, _, _), .valueOutOfRange(let c, _, _, _),
             .unknownValue(let c, _, _), .invalidUTF8(let c, _), .controlCharacter(let c, _),
             .nonFinite(let c, _, _), .inconsistent(let c, _, _):
            c
        }
    }

    public var description: String {
        switch self {
        case .noFrames: "wire: empty message (no frames)"
        case .tooManyFrames(let n, let limit): "wire: \(n) frames, at most \(limit) allowed"
        case .frameTooLarge(let i, let bytes, let limit): "wire: frame \(i) has \(bytes) bytes, at most \(limit) allowed"
        case .badSignature: "wire: frame 0 is not the Hutch signature \"HUTCH\"+version: not a Hutch peer"
        case .unsupportedVersion(let v): "wire: protocol version \(v), this build speaks \(WireLimits.version): run the same hutch version everywhere"
        case .badCommandFrame(let bytes): "wire: command frame has \(bytes) bytes, expected 1"
        case .unknownCommand(let c): "wire: unknown command byte \(c)"
        case .missingField(let c, let f): "wire: \(c) is missing field \(f)"
        case .extraFrames(let c, let n): "wire: \(c) has \(n) extra frame(s) after its last field"
        case .wrongFieldLength(let c, let f, let e, let a): "wire: \(c) field \(f) has \(a) bytes, expected \(e)"
        case .fieldLength(let c, let f, let b, let r): "wire: \(c) field \(f) has \(b) bytes, allowed \(r.lowerBound)...\(r.upperBound)"
        case .misaligned(let c, let f, let b, let e): "wire: \(c) field \(f) has \(b) bytes, not a multiple of \(e)"
        case .valueOutOfRange(let c, let f, let v, let r): "wire: \(c) field \(f) = \(v), allowed \(r.lowerBound)...\(r.upperBound)"
        case .unknownValue(let c, let f, let v): "wire: \(c) field \(f) has unknown value \(v)"
        case .invalidUTF8(let c, let f): "wire: \(c) field \(f) is not valid UTF-8"
        case .controlCharacter(let c, let f): "wire: \(c) field \(f) contains a control character"
        case .nonFinite(let c, let f, let i): "wire: \(c) field \(f) element \(i) is NaN or infinite"
        case .inconsistent(let c, let f, let d): "wire: \(c) field \(f): \(d)"
        }
    }
}
