/// A message decoded field by field: `init(reader:)` starts from the defaults and hands every
/// field to `decode` in wire order (a message's decoder is then just its switch on numbers).
protocol ProtobufMessage {
    init()
    /// Takes in one field; unknown numbers are skipped, as protobuf requires.
    mutating func decode(_ field: ProtobufField) throws
}

extension ProtobufMessage {
    init(reader: ProtobufReader) throws {
        self.init()
        try reader.forEachField { try decode($0) }
    }
}

extension ProtobufReader {
    /// Calls body on every remaining field of this message, in order.
    func forEachField(_ body: (ProtobufField) throws -> Void) throws {
        var reader = self
        while let field = try reader.next() { try body(field) }
    }
}
