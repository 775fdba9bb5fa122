import HutchWire
import XCTest

/// RESULT's optional last field, peak_resident_bytes (wire.md 4.6): 7 frames without it, 8 with
/// it, anything else malformed; it is not part of the result's equality.
final class WireOptionalFieldTests: XCTestCase {
    let result = TaskResult(taskID: 9, leaseID: 4, kind: .quantize, body: [1, 2], values: [0.5])

    func testResultRoundTripsWithAndWithoutThePeak() throws {
        let plain = try WireCodec.encode(.result(result))
        XCTAssertEqual(plain.count, 8, "signature, command and 6 fields")
        guard case .result(let back) = try WireCodec.decode(plain) else { return XCTFail("not a RESULT") }
        XCTAssertNil(back.peakResidentBytes)

        var stamped = result
        stamped.peakResidentBytes = 0x0102_0304_0506
        let frames = try WireCodec.encode(.result(stamped))
        XCTAssertEqual(frames.count, 9)
        XCTAssertEqual(frames.last, [6, 5, 4, 3, 2, 1, 0, 0], "a little-endian u64")
        XCTAssertEqual(Array(frames.prefix(8)), plain, "the other frames are unchanged")
        guard case .result(let decoded) = try WireCodec.decode(frames) else { return XCTFail("not a RESULT") }
        XCTAssertEqual(decoded.peakResidentBytes, 0x0102_0304_0506)
        XCTAssertEqual(decoded, result, "the peak is not part of the result")
    }

    func testAMalformedPeakOrAFrameAfterItIsRefused() throws {
        var stamped = result
        stamped.peakResidentBytes = 1 << 30
        let frames = try WireCodec.encode(.result(stamped))
        XCTAssertThrowsError(try WireCodec.decode(Array(frames.dropLast()) + [[1, 2, 3]])) { error in
            XCTAssertEqual(error as? WireError, .wrongFieldLength(.result, field: "peak_resident_bytes", expected: 8, actual: 3))
        }
        XCTAssertThrowsError(try WireCodec.decode(frames + [[0]])) { error in
            XCTAssertEqual(error as? WireError, .extraFrames(.result, count: 1))
        }
    }
}

/// ERROR's optional last field, digest (wire.md 4.11): the blob a BLOB_REQUEST asked for, on the
/// ERROR that answers it; 3 fields without it, 4 with it, anything else malformed.
final class WireErrorDigestTests: XCTestCase {
    let reply = ErrorReply(code: .unexpected, command: WireCommand.blobRequest.rawValue, message: "short read")

    func testErrorRoundTripsWithAndWithoutTheDigest() throws {
        let plain = try WireCodec.encode(.error(reply))
        XCTAssertEqual(plain.count, 5, "signature, command and 3 fields")
        XCTAssertEqual(try WireCodec.decode(plain), .error(reply))
        var named = reply
        named.digest = WireDigest(bytes: Array(repeating: 0xAB, count: 32))
        let frames = try WireCodec.encode(.error(named))
        XCTAssertEqual(frames.count, 6)
        XCTAssertEqual(Array(frames.prefix(5)), plain, "the other frames are unchanged")
        XCTAssertEqual(frames.last, Array(repeating: 0xAB, count: 32))
        XCTAssertEqual(try WireCodec.decode(frames), .error(named))
    }

    func testAMalformedDigestOrAFrameAfterItIsRefused() throws {
        var named = reply
        named.digest = WireDigest(bytes: Array(repeating: 1, count: 32))
        let frames = try WireCodec.encode(.error(named))
        XCTAssertThrowsError(try WireCodec.decode(Array(frames.dropLast()) + [[1, 2, 3]]))
        XCTAssertThrowsError(try WireCodec.decode(frames + [[0]])) { error in
            XCTAssertEqual(error as? WireError, .extraFrames(.error, count: 1))
        }
    }
}
