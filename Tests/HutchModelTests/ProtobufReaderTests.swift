import XCTest
@testable import HutchModel

final class ProtobufReaderTests: XCTestCase {
    private func fields(_ bytes: [UInt8]) throws -> [ProtobufField] {
        var reader = ProtobufReader(bytes)
        var result: [ProtobufField] = []
        while let field = try reader.next() { result.append(field) }
        return result
    }

    func testDecodesEveryWireType() throws {
        var writer = ProtobufWriter()
        writer.int(1, 300)
        writer.int(2, -5)                    // negative int64: ten-byte two's complement varint
        writer.double(3, 2.5)
        writer.string(4, "héllo")
        writer.float(5, -1.25)
        let decoded = try fields(writer.bytes)
        XCTAssertEqual(decoded.map(\.number), [1, 2, 3, 4, 5])
        XCTAssertEqual(try decoded[0].int64(), 300)
        XCTAssertEqual(try decoded[1].int64(), -5)
        XCTAssertEqual(try decoded[1].int32(), -5)
        XCTAssertEqual(try decoded[2].double(), 2.5)
        XCTAssertEqual(try decoded[3].string(), "héllo")
        XCTAssertEqual(try decoded[4].float(), -1.25)
    }

    func testMaximalVarint() throws {
        var writer = ProtobufWriter()
        writer.int(1, Int64.min)
        writer.int(2, Int64.max)
        let decoded = try fields(writer.bytes)
        XCTAssertEqual(try decoded[0].int64(), Int64.min)
        XCTAssertEqual(try decoded[1].int64(), Int64.max)
    }

    func testPackedAndUnpackedRepeatedFieldsAgree() throws {
        var packed = ProtobufWriter()
        packed.packedInt64s(1, [1, -2, 300])
        packed.packedFloats(2, [0.5, -3])
        var unpacked = ProtobufWriter()
        for value: Int64 in [1, -2, 300] { unpacked.int(1, value) }
        for value: Float in [0.5, -3] { unpacked.float(2, value) }
        for bytes in [packed.bytes, unpacked.bytes] {
            var ints: [Int64] = []
            var floats: [Float] = []
            for field in try fields(bytes) {
                if field.number == 1 { try field.appendInt64s(to: &ints) } else { try field.appendFloats(to: &floats) }
            }
            XCTAssertEqual(ints, [1, -2, 300])
            XCTAssertEqual(floats, [0.5, -3])
        }
    }

    func testTruncatedVarintThrows() {
        XCTAssertThrowsError(try fields([0x08, 0x96])) { error in
            XCTAssertEqual(error as? ProtobufError, .truncatedVarint(offset: 1))
        }
        XCTAssertThrowsError(try fields([0x88])) { error in     // the tag itself is cut
            XCTAssertEqual(error as? ProtobufError, .truncatedVarint(offset: 0))
        }
    }

    func testOverlongVarintThrows() {
        let bytes: [UInt8] = [0x08] + Array(repeating: 0xFF, count: 10) + [0x01]
        XCTAssertThrowsError(try fields(bytes)) { error in
            XCTAssertEqual(error as? ProtobufError, .varintTooLong(offset: 1))
        }
    }

    func testLengthPastEndThrows() {
        // field 1, length-delimited, claims 5 bytes, has 2.
        XCTAssertThrowsError(try fields([0x0A, 0x05, 0x61, 0x62])) { error in
            guard case .truncatedField(field: 1, offset: 1, needed: 5, available: 2)? = error as? ProtobufError else {
                return XCTFail("unexpected \(error)")
            }
        }
        // A huge length (2^63) must not overflow.
        XCTAssertThrowsError(try fields([0x0A, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]))
    }

    func testTruncatedFixedWidthThrows() {
        XCTAssertThrowsError(try fields([0x0D, 0x00, 0x00]))              // 32-bit with 2 bytes
        XCTAssertThrowsError(try fields([0x09, 0, 0, 0, 0, 0, 0, 0]))     // 64-bit with 7 bytes
    }

    func testGroupsAndInvalidWireTypesThrow() {
        for wire: UInt8 in [3, 4, 6, 7] {
            XCTAssertThrowsError(try fields([0x08 | wire, 0x00])) { error in
                XCTAssertEqual(error as? ProtobufError, .invalidWireType(field: 1, wireType: Int(wire), offset: 0))
            }
        }
        XCTAssertThrowsError(try fields([0x00, 0x00])) { error in
            XCTAssertEqual(error as? ProtobufError, .invalidFieldNumber(offset: 0))
        }
    }

    func testWrongWireTypeForFieldThrows() throws {
        var writer = ProtobufWriter()
        writer.string(1, "not a number")
        let field = try XCTUnwrap(try fields(writer.bytes).first)
        XCTAssertThrowsError(try field.int64()) { error in
            XCTAssertEqual(error as? ProtobufError, .unexpectedWireType(field: 1, expected: "varint", found: 2, offset: 1))
        }
        XCTAssertThrowsError(try field.float())
        // An ONNX model whose ir_version (varint) is sent as a string is refused, not misread.
        XCTAssertThrowsError(try ONNXModelProto(decoding: writer.bytes))
    }

    func testPackedRunWithPartialElementThrows() throws {
        var writer = ProtobufWriter()
        writer.data(1, [0, 0, 0, 0, 0, 0])   // 6 bytes: not a whole number of floats
        let field = try XCTUnwrap(try fields(writer.bytes).first)
        var floats: [Float] = []
        XCTAssertThrowsError(try field.appendFloats(to: &floats))
        var ints: [Int64] = []
        var cut = ProtobufWriter()
        cut.data(1, [0x96])                   // packed varints ending mid-varint
        XCTAssertThrowsError(try XCTUnwrap(try fields(cut.bytes).first).appendInt64s(to: &ints))
    }

    func testInvalidUTF8Throws() throws {
        var writer = ProtobufWriter()
        writer.data(1, [0xFF, 0xFE])
        XCTAssertThrowsError(try XCTUnwrap(try fields(writer.bytes).first).string()) { error in
            XCTAssertEqual(error as? ProtobufError, .invalidUTF8(field: 1, offset: 1))
        }
    }

    func testNestedLengthCannotEscapeParent() throws {
        // Outer field 7 holds 3 bytes; inside, field 1 claims 10 bytes, which exist in the buffer
        // after the parent but must not be readable from within it.
        let bytes: [UInt8] = [0x3A, 0x03, 0x0A, 0x0A, 0x00] + Array(repeating: 0x41, count: 10)
        var reader = ProtobufReader(bytes)
        let outer = try XCTUnwrap(try reader.next())
        var inner = try outer.message()
        XCTAssertThrowsError(try inner.next())
    }
}
