import CZeroMQ

/// ZeroMQ's Z85 text encoding (RFC 32/Z85) through libzmq: 4 bytes become 5 printable characters.
public enum Z85 {
    /// The 85 characters of the alphabet, in digit order.
    static let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#".utf8)

    /// Encodes `bytes`, whose count must be a multiple of 4.
    public static func encode(_ bytes: [UInt8]) throws(SecurityError) -> String {
        guard bytes.count % 4 == 0 else {
            throw SecurityError(.invalidKey, "Z85 encodes multiples of 4 bytes, got \(bytes.count)")
        }
        var text = [CChar](repeating: 0, count: bytes.count / 4 * 5 + 1)
        let done = bytes.withUnsafeBufferPointer { zmq_z85_encode(&text, $0.baseAddress, $0.count) }
        guard done != nil else { throw SecurityError(.invalidKey, "zmq_z85_encode failed on \(bytes.count) bytes") }
        return String(decoding: text.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Decodes Z85 text whose length is a multiple of 5; the error says which character is wrong.
    public static func decode(_ text: String) throws(SecurityError) -> [UInt8] {
        let characters = Array(text.utf8)
        guard characters.count % 5 == 0 else {
            throw SecurityError(.invalidKey, "Z85 text has \(characters.count) characters, not a multiple of 5")
        }
        if let bad = characters.firstIndex(where: { !alphabet.contains($0) }) {
            throw SecurityError(.invalidKey, "character \(bad + 1) of the Z85 text is not in the Z85 alphabet")
        }
        var bytes = [UInt8](repeating: 0, count: characters.count / 5 * 4)
        let done = (characters.map { CChar(bitPattern: $0) } + [0]).withUnsafeBufferPointer { zmq_z85_decode(&bytes, $0.baseAddress) }
        // libzmq also refuses 5-character groups worth more than 2^32 - 1
        guard done != nil else { throw SecurityError(.invalidKey, "the Z85 text encodes a value out of range") }
        return bytes
    }
}
