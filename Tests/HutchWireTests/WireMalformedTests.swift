import XCTest
import HutchWire

/// Each kind of malformed input gets its own typed error.
final class WireMalformedTests: XCTestCase {
    private let sig: [UInt8] = Array("HUTCH".utf8) + [1]

    private func expect(_ frames: [[UInt8]], _ expected: WireError, file: StaticString = #filePath, line: UInt = #line) {
        do {
            let message = try WireCodec.decode(frames)
            XCTFail("decoded \(message), expected \(expected)", file: file, line: line)
        } catch {
            XCTAssertEqual(error, expected, file: file, line: line)
            XCTAssertFalse(error.description.contains("\n"), file: file, line: line)
        }
    }

    private func frames(_ message: WireMessage) throws -> [[UInt8]] { try WireCodec.encode(message) }

    func testHeaderErrors() {
        expect([], .noFrames)
        expect(Array(repeating: [], count: 11), .tooManyFrames(count: 11, limit: 10))
        expect([Array("HUTCX".utf8) + [1], [4]], .badSignature)
        expect([Array("HUTCH".utf8), [4]], .badSignature)
        expect([Array("HUTCH".utf8) + [2], [4]], .unsupportedVersion(2))
        expect([sig], .badCommandFrame(bytes: 0))
        expect([sig, [4, 4]], .badCommandFrame(bytes: 2))
        expect([sig, [0x7F]], .unknownCommand(0x7F))
        expect([sig, [0]], .unknownCommand(0))
        expect([sig, [4], Array(repeating: 0, count: WireLimits.maxFrameBytes + 1)],
               .frameTooLarge(index: 2, bytes: WireLimits.maxFrameBytes + 1, limit: WireLimits.maxFrameBytes))
    }

    func testMissingAndExtraFrames() throws {
        expect([sig, [4], []], .extraFrames(.heartbeat, count: 1))
        expect([sig, [3]], .missingField(.credit, field: "credit"))
        let hello = try frames(VectorCatalog.all[0].message)
        expect(Array(hello.dropLast()), .missingField(.hello, field: "heartbeat_ms"))
        expect(hello + [[1]], .extraFrames(.hello, count: 1))
    }

    func testShortAndLongFixedFields() {
        expect([sig, [3], [1, 0, 0]], .wrongFieldLength(.credit, field: "credit", expected: 4, actual: 3))
        expect([sig, [3], [1, 0, 0, 0, 0]], .wrongFieldLength(.credit, field: "credit", expected: 4, actual: 5))
        expect([sig, [10], Array(repeating: 0, count: 31)],
               .wrongFieldLength(.blobUnknown, field: "digest", expected: 32, actual: 31))
    }

    func testRangesAndEnumValues() throws {
        expect([sig, [3], [0, 0, 0, 0]], .valueOutOfRange(.credit, field: "credit", value: 0, allowed: WireLimits.credit))
        var failure = try frames(.failure(TaskFailure(taskID: 1, leaseID: 1, failureClass: .poison, message: "")))
        failure[4] = [9]
        expect(failure, .unknownValue(.failure, field: "class", value: 9))
        var task = try frames(VectorCatalog.all[5].message)
        task[5] = [0]
        expect(task, .unknownValue(.task, field: "kind", value: 0))
        task = try frames(VectorCatalog.all[5].message)
        task[4] = [10, 0, 0, 0]
        expect(task, .valueOutOfRange(.task, field: "lease_ms", value: 10, allowed: WireLimits.leaseMs))
    }

    func testNamesAndText() throws {
        var hello = try frames(VectorCatalog.all[0].message)
        hello[4] = [0xC3, 0x28]
        expect(hello, .invalidUTF8(.hello, field: "name"))
        hello[4] = []
        expect(hello, .fieldLength(.hello, field: "name", bytes: 0, allowed: WireLimits.nameBytes))
        hello[4] = Array(repeating: 0x61, count: 65)
        expect(hello, .fieldLength(.hello, field: "name", bytes: 65, allowed: WireLimits.nameBytes))
        hello[4] = Array("bad\nname".utf8)
        expect(hello, .controlCharacter(.hello, field: "name"))
        expect([sig, [12], [1], Array(repeating: 0x61, count: 1025)],
               .fieldLength(.disconnect, field: "message", bytes: 1025, allowed: WireLimits.textBytes))
    }

    func testArraysAndBlobs() throws {
        var result = try frames(VectorCatalog.all[7].message)
        result[7] = [0, 0, 0]
        expect(result, .misaligned(.result, field: "values", bytes: 3, element: 8))
        result[7] = [0, 0, 0, 0, 0, 0, 0xF8, 0x7F]
        expect(result, .nonFinite(.result, field: "values", index: 0))
        result[5] = Array(repeating: 0, count: 33)
        expect(result, .misaligned(.result, field: "blobs", bytes: 33, element: 32))
        let chunk = BlobChunk(digest: VectorCatalog.digest(1), offset: 12, totalBytes: 16, data: [1, 2, 3, 4, 5])
        XCTAssertThrowsError(try WireCodec.encode(.blobChunk(chunk))) { error in
            guard case .inconsistent(.blobChunk, "data", _)? = error as? WireError else { return XCTFail("\(error)") }
        }
        let request = BlobRequest(digest: VectorCatalog.digest(1), offset: .max, length: 2)
        XCTAssertThrowsError(try WireCodec.encode(.blobRequest(request)))
    }

    func testEncodeRefusesWhatDecodeWouldReject() {
        XCTAssertThrowsError(try WireCodec.encode(.credit(Credit(credit: 0))))
        XCTAssertThrowsError(try WireCodec.encode(.result(TaskResult(taskID: 1, leaseID: 1, kind: .sensitivity,
                                                                     body: [], values: [.infinity]))))
        XCTAssertThrowsError(try WireCodec.encode(.hello(Hello(capabilities: [], instance: 1, name: "", threads: 1, credit: 1))))
    }

    func testErrorReplyForADecodeFailure() throws {
        let reply = ErrorReply(answering: .missingField(.result, field: "values"))
        XCTAssertEqual(reply.code, .malformed)
        XCTAssertEqual(reply.command, WireCommand.result.rawValue)
        XCTAssertEqual(ErrorReply(answering: .unsupportedVersion(9)).code, .unsupportedVersion)
        XCTAssertNoThrow(try WireCodec.encode(.error(reply)))
    }
}
