import HutchCluster
import HutchClusterCore
import HutchWire
import XCTest

/// The journal's bytes: round trips, the valid prefix of a torn or corrupt file, refusals.
final class JournalCodecTests: XCTestCase {
    let job = WireDigest(bytes: (0..<32).map { UInt8($0 * 7 & 0xFF) })!

    var records: [JournalRecord] {
        [.result(WireTaskResult(taskID: 1, leaseID: 4, kind: .sensitivity, blobs: [], body: [1, 2, 3], values: [1.5, -0.25])),
         .result(WireTaskResult(taskID: 9, leaseID: 11, kind: .quantizationError, blobs: [job], body: [], values: [0, 3e-9, 7])),
         .result(WireTaskResult(taskID: 12, leaseID: 20, kind: .quantize, blobs: [], body: Array(repeating: 0xAB, count: 300), values: [])),
         .jobComplete]
    }

    func journal(_ records: [JournalRecord]) throws -> (bytes: [UInt8], offsets: [Int]) {
        var bytes = JournalCodec.encode(JournalHeader(job: job))
        var offsets: [Int] = []
        for r in records { offsets.append(bytes.count); bytes += try JournalCodec.encode(r) }
        return (bytes, offsets)
    }

    func testCRC32CKnownValues() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)   // the standard check value
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)   // RFC 3720 B.4
        XCTAssertEqual(CRC32C.checksum(Array("6789".utf8), continuing: CRC32C.checksum(Array("12345".utf8))), 0xE306_9283)
    }

    func testRoundTripAndLayout() throws {
        let (bytes, offsets) = try journal(records)
        let contents = try JournalCodec.read(bytes)
        XCTAssertEqual(contents.header, JournalHeader(version: 1, job: job))
        XCTAssertEqual(contents.records, records)
        XCTAssertEqual(contents.tail, .clean)
        XCTAssertEqual(contents.validBytes, bytes.count)
        XCTAssertTrue(contents.complete)
        XCTAssertEqual(Array(bytes.prefix(8)), Array("HUTCHJNL".utf8))
        XCTAssertEqual(Array(bytes[8..<12]), [1, 0, 0, 0])
        XCTAssertEqual(Array(bytes[12..<44]), job.bytes)
        XCTAssertEqual(offsets.first, 48)
        // job complete: length 1, then the checksum, then the type byte 2
        let last = offsets[3]
        XCTAssertEqual(Array(bytes[last..<(last + 4)]), [1, 0, 0, 0])
        XCTAssertEqual(bytes[last + 8], 2)
        XCTAssertEqual(bytes.count, last + 9)
        // a result's payload: type 1, then the RESULT frames after the signature (command 0x06 first)
        XCTAssertEqual(Array(bytes[(48 + 8)..<(48 + 14)]), [1, 1, 0, 0, 0, 0x06])
    }

    /// A quantize result pulled as a blob has a body over the RESULT limit: record type 3 keeps
    /// it whole; a damaged body length is refused, not followed.
    func testALargeBodyResultRoundTripsAsType3() throws {
        var state: UInt32 = 7
        let body = (0..<(WireLimits.resultBodyBytes.upperBound + 4097)).map { _ -> UInt8 in
            state = state &* 1_664_525 &+ 1_013_904_223; return UInt8(state >> 24)
        }
        let large = JournalRecord.result(WireTaskResult(taskID: 12, leaseID: 30, kind: .quantize, body: body, values: []))
        let (bytes, offsets) = try journal([large, .jobComplete])
        XCTAssertEqual(bytes[offsets[0] + 8], 3, "record type 3")
        let contents = try JournalCodec.read(bytes)
        XCTAssertEqual(contents.records, [large, .jobComplete])
        XCTAssertEqual(contents.tail, .clean)
        // a body length that claims more than the record holds: the record is corrupt
        var damaged = bytes
        damaged[offsets[0] + 9 + 3] ^= 0x40
        let crcAt = offsets[0] + 4
        // with a valid checksum (journal.md: CRC-32C of the length bytes, then the payload)
        let fixed = CRC32C.checksum(damaged[(offsets[0] + 8)..<offsets[1]], continuing: CRC32C.checksum(damaged[offsets[0]..<(offsets[0] + 4)]))
        for k in 0..<4 { damaged[crcAt + k] = UInt8(truncatingIfNeeded: fixed >> (8 * UInt32(k))) }
        let read = try JournalCodec.read(damaged)
        XCTAssertTrue(read.records.isEmpty)
        guard case .corrupt = read.tail else { return XCTFail("\(read.tail)") }
    }

    /// A file cut at any byte inside the last record reads as the records before it, torn at
    /// that record's offset.
    func testEveryTornTailKeepsThePrefix() throws {
        let (bytes, offsets) = try journal(records)
        let last = offsets[2]   // the 300-byte quantize body
        for cut in last..<offsets[3] {
            let contents = try JournalCodec.read(Array(bytes.prefix(cut)))
            XCTAssertEqual(contents.records, Array(records.prefix(2)), "cut at \(cut)")
            XCTAssertEqual(contents.validBytes, last)
            if cut == last { XCTAssertEqual(contents.tail, .clean) } else {
                guard case .torn(let at, _) = contents.tail else { return XCTFail("cut at \(cut): \(contents.tail)") }
                XCTAssertEqual(at, last)
            }
        }
    }

    /// Any flipped bit in a record's frame or payload is caught; the records before it stay.
    func testCorruptRecordsAreCaught() throws {
        let (bytes, offsets) = try journal(records)
        for position in offsets[1]..<offsets[2] {
            var damaged = bytes
            damaged[position] ^= 0x10
            let contents = try JournalCodec.read(damaged)
            XCTAssertEqual(contents.records, [records[0]], "flip at \(position)")
            XCTAssertEqual(contents.validBytes, offsets[1])
            switch contents.tail {
            case .clean: XCTFail("flip at \(position) not caught")
            case .torn(let at, _), .corrupt(let at, _): XCTAssertEqual(at, offsets[1])
            }
        }
        // a checksum-valid record whose payload is not a RESULT is corrupt too
        var framed: [UInt8] = [3, 0, 0, 0]
        let payload: [UInt8] = [1, 0, 0]
        let crc = CRC32C.checksum(payload, continuing: CRC32C.checksum(framed))
        framed += (0..<4).map { UInt8(truncatingIfNeeded: crc >> (8 * $0)) } + payload
        let contents = try JournalCodec.read(JournalCodec.encode(JournalHeader(job: job)) + framed)
        guard case .corrupt(48, let why) = contents.tail else { return XCTFail("\(contents.tail)") }
        XCTAssertTrue(why.contains("payload"), why)
    }

    func testHeaderRefusals() throws {
        let header = JournalCodec.encode(JournalHeader(job: job))
        XCTAssertThrowsError(try JournalCodec.read([])) { XCTAssertEqual($0 as? JournalError, .noHeader(bytes: 0)) }
        XCTAssertThrowsError(try JournalCodec.read(Array(header.prefix(20)))) { XCTAssertEqual($0 as? JournalError, .noHeader(bytes: 20)) }
        XCTAssertThrowsError(try JournalCodec.read(Array("{\"job\": 1}".utf8) + header)) { XCTAssertEqual($0 as? JournalError, .notAJournal) }
        var newer = header
        newer[8] = 2
        XCTAssertThrowsError(try JournalCodec.read(newer)) { XCTAssertEqual($0 as? JournalError, .newerVersion(2)) }
        var flipped = header
        flipped[20] ^= 1
        XCTAssertThrowsError(try JournalCodec.read(flipped)) { XCTAssertEqual($0 as? JournalError, .corruptHeader) }
        XCTAssertTrue("\(JournalError.newerVersion(2))".contains("newer hutch"))
    }

    /// The writer appends, syncs in groups, and resumes by cutting a torn tail.
    func testWriterGroupsSyncsAndResumesAfterATornTail() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var writer: JournalWriter? = try JournalWriter.create(path: path, header: JournalHeader(job: job), maxRecords: 2, maxDelayMs: 100)
        try writer?.append(records[0], now: 1000)
        XCTAssertEqual(writer?.deadline, 1100)
        try writer?.syncIfDue(now: 1099)
        XCTAssertEqual(writer?.syncs, 1, "only the header's sync so far")
        try writer?.syncIfDue(now: 1100)
        XCTAssertEqual(writer?.syncs, 2)
        XCTAssertNil(writer?.deadline)
        try writer?.append(records[1], now: 1200)
        try writer?.append(records[2], now: 1201)
        XCTAssertEqual(writer?.syncs, 3, "two records fill a group")
        writer = nil
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        XCTAssertEqual(try JournalCodec.read(bytes).records, Array(records.prefix(3)))
        // a torn record at the end: resume cuts it and appends after the valid prefix
        bytes += try JournalCodec.encode(records[3]).prefix(5)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let torn = try JournalCodec.read(bytes)
        guard case .torn = torn.tail else { return XCTFail("\(torn.tail)") }
        writer = try JournalWriter.resume(path: path, validBytes: torn.validBytes)
        try writer?.append(.jobComplete, now: 0)
        try writer?.sync()
        writer = nil
        let again = try JournalCodec.read([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
        XCTAssertEqual(again.records, records)
        XCTAssertEqual(again.tail, .clean)
    }
}

/// Protocols/vectors/journal/journal-1.hex: a whole journal, field by field, for other readers.
final class JournalVectorTests: XCTestCase {
    static let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Protocols/vectors/journal/journal-1.hex")

    static let job = WireDigest(bytes: Array(0..<32))!
    static let records: [JournalRecord] = [
        .result(WireTaskResult(taskID: 3, leaseID: 7, kind: .sensitivity, blobs: [], body: [1, 0xAB], values: [1.5, -0.25])),
        .result(WireTaskResult(taskID: 1, leaseID: 2, kind: .quantizationError, blobs: [], body: [], values: [0.125])),
        .jobComplete,
    ]

    /// The annotated file: `#` comments, then one field per line in lowercase hex.
    static func annotated() throws -> String {
        func hex(_ bytes: some Sequence<UInt8>) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
        var lines = ["# Hutch journal, format version 1 (Protocols/journal.md); regenerated by JournalVectorTests",
                     "# header: magic HUTCHJNL", hex(JournalCodec.magic), "# header: version", "01000000",
                     "# header: job digest", hex(job.bytes)]
        let header = JournalCodec.encode(JournalHeader(job: job))
        lines += ["# header: CRC-32C of the 44 bytes above", hex(header[44..<48])]
        for (i, record) in records.enumerated() {
            let framed = try JournalCodec.encode(record)
            lines += ["# record \(i + 1) (\(record == .jobComplete ? "job complete" : "result")): payload length", hex(framed[0..<4]),
                      "# record \(i + 1): CRC-32C of the length and the payload", hex(framed[4..<8]),
                      "# record \(i + 1): payload (type byte, then for a result each RESULT frame after the signature as u32 length · bytes)",
                      hex(framed[8...])]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    func testTheGoldenJournalReadsAndReencodes() throws {
        if ProcessInfo.processInfo.environment["HUTCH_WRITE_VECTORS"] == "1" {
            try Self.annotated().write(to: Self.file, atomically: true, encoding: .utf8)
        }
        let text = try String(contentsOf: Self.file, encoding: .utf8)
        XCTAssertEqual(text, try Self.annotated(), "the committed vector is what the codec writes")
        var bytes: [UInt8] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            var index = line.startIndex
            while index < line.endIndex {
                let next = line.index(index, offsetBy: 2)
                bytes.append(try XCTUnwrap(UInt8(line[index..<next], radix: 16)))
                index = next
            }
        }
        let contents = try JournalCodec.read(bytes)
        XCTAssertEqual(contents.header.job, Self.job)
        XCTAssertEqual(contents.records, Self.records)
        XCTAssertEqual(contents.tail, .clean)
        XCTAssertEqual(contents.validBytes, bytes.count)
    }
}
