import HutchWire

/// The journal's bytes (Protocols/journal.md): pure, no I/O. A header, then records framed as
/// u32 length · u32 CRC-32C · payload; a result's payload reuses the HWP RESULT encoding.
public enum JournalCodec {
    public static let magic: [UInt8] = Array("HUTCHJNL".utf8)
    public static let version: UInt32 = 1
    /// magic(8) · version(4) · job digest(32) · CRC-32C of the 44 bytes before it(4)
    public static let headerBytes = 48
    /// length(4) · CRC-32C(4)
    public static let frameBytes = 8
    /// The largest payload a reader accepts: a quantized layer pulled as a blob (up to 1 GiB)
    /// with its RESULT; a larger length is a damaged record.
    public static let maxPayloadBytes = 1 << 30

    public static func encode(_ header: JournalHeader) -> [UInt8] {
        var bytes = magic
        append(header.version, to: &bytes)
        bytes += header.job.bytes
        append(CRC32C.checksum(bytes), to: &bytes)
        return bytes
    }

    /// One framed record, ready to append.
    public static func encode(_ record: JournalRecord) throws(WireError) -> [UInt8] {
        var payload: [UInt8]
        switch record {
        case .jobComplete:
            payload = [JournalRecord.Tag.jobComplete.rawValue]
        case .result(let r) where r.body.count > WireLimits.resultBodyBytes.upperBound:
            // a body pulled as a blob (wire.md 11.3) is over the RESULT limit: u64 length · body,
            // then the RESULT with an empty body as in a type-1 record
            payload = [JournalRecord.Tag.resultWithLargeBody.rawValue]
            append(UInt64(r.body.count), to: &payload)
            payload += r.body
            var rest = r
            rest.body = []
            try appendFrames(of: rest, to: &payload)
            guard payload.count <= maxPayloadBytes else {
                throw .fieldLength(.result, field: "body", bytes: r.body.count, allowed: 0...(maxPayloadBytes - 1024))
            }
        case .result(let r):
            payload = [JournalRecord.Tag.result.rawValue]
            try appendFrames(of: r, to: &payload)
        }
        var framed: [UInt8] = []
        framed.reserveCapacity(frameBytes + payload.count)
        append(UInt32(payload.count), to: &framed)
        append(checksum(length: framed, payload: payload), to: &framed)
        return framed + payload
    }

    /// The RESULT's frames after the signature (command byte, then the fields), each as u32 length · bytes.
    static func appendFrames(of r: WireTaskResult, to payload: inout [UInt8]) throws(WireError) {
        for frame in try WireCodec.encode(.result(r)).dropFirst() {
            append(UInt32(frame.count), to: &payload)
            payload += frame
        }
    }

    /// Reads a whole journal: its header (or why it has none usable), and the longest prefix of
    /// valid records. Reading stops at the first torn or corrupt record.
    public static func read(_ bytes: [UInt8]) throws(JournalError) -> JournalContents {
        let header = try decodeHeader(bytes)
        var records: [JournalRecord] = []
        var offset = headerBytes
        var tail = JournalContents.Tail.clean
        while offset < bytes.count {
            let left = bytes.count - offset
            guard left >= frameBytes else {
                tail = .torn(offset: offset, "\(left) bytes, less than a record's \(frameBytes)-byte frame")
                break
            }
            let length = Int(integer(bytes, at: offset))
            let crc = integer(bytes, at: offset + 4)
            guard length >= 1, length <= maxPayloadBytes else {
                tail = .corrupt(offset: offset, "record length \(length) is outside 1...\(maxPayloadBytes)")
                break
            }
            guard left - frameBytes >= length else {
                tail = .torn(offset: offset, "the record needs \(length) payload bytes, \(left - frameBytes) remain")
                break
            }
            let payload = bytes[(offset + frameBytes)..<(offset + frameBytes + length)]
            guard checksum(length: bytes[offset..<(offset + 4)], payload: payload) == crc else {
                tail = .corrupt(offset: offset, "record checksum mismatch")
                break
            }
            do {
                records.append(try decodePayload(payload))
            } catch {
                tail = .corrupt(offset: offset, "record payload: \(error)")
                break
            }
            offset += frameBytes + length
        }
        return JournalContents(header: header, records: records, validBytes: offset, tail: tail)
    }

    public static func decodeHeader(_ bytes: [UInt8]) throws(JournalError) -> JournalHeader {
        guard bytes.count >= headerBytes else {
            // a crash before the header was synced leaves a short prefix of it (or nothing)
            if !bytes.isEmpty && !magic.starts(with: bytes.prefix(magic.count)) { throw .notAJournal }
            throw .noHeader(bytes: bytes.count)
        }
        guard Array(bytes[0..<8]) == magic else { throw .notAJournal }
        let version = integer(bytes, at: 8)
        // a newer writer may lay out the rest differently: its version is all a reader can trust
        guard version <= Self.version else { throw .newerVersion(version) }
        guard CRC32C.checksum(bytes[0..<44]) == integer(bytes, at: 44), version >= 1,
              let job = WireDigest(bytes: Array(bytes[12..<44])) else { throw .corruptHeader }
        return JournalHeader(version: version, job: job)
    }

    static func decodePayload(_ payload: ArraySlice<UInt8>) throws -> JournalRecord {
        guard let first = payload.first, let tag = JournalRecord.Tag(rawValue: first) else {
            throw PayloadError("unknown record type \(payload.first.map(String.init) ?? "none")")
        }
        switch tag {
        case .jobComplete:
            guard payload.count == 1 else { throw PayloadError("a job-complete record has \(payload.count) bytes, not 1") }
            return .jobComplete
        case .resultWithLargeBody:
            guard payload.count >= 9 else { throw PayloadError("a large-body result is cut short") }
            let n = (0..<8).reduce(UInt64(0)) { $0 | UInt64(payload[payload.startIndex + 1 + $1]) << (8 * UInt64($1)) }
            guard n > UInt64(WireLimits.resultBodyBytes.upperBound), n <= UInt64(payload.count - 9) else {
                throw PayloadError("a large-body result claims \(n) body bytes")
            }
            let bodyStart = payload.startIndex + 9, bodyEnd = bodyStart + Int(n)
            guard case .result(var r) = try decodePayload([JournalRecord.Tag.result.rawValue] + payload[bodyEnd...]), r.body.isEmpty else {
                throw PayloadError("a large-body result's RESULT has a body of its own")
            }
            r.body = Array(payload[bodyStart..<bodyEnd])
            return .result(r)
        case .result:
            var frames: [[UInt8]] = [WireLimits.signature + [WireLimits.version]]
            var at = payload.startIndex + 1
            while at < payload.endIndex {
                guard payload.endIndex - at >= 4 else { throw PayloadError("a frame length is cut short") }
                let n = Int(integer(payload, at: at))
                at += 4
                guard payload.endIndex - at >= n else { throw PayloadError("a frame of \(n) bytes is cut short") }
                frames.append(Array(payload[at..<(at + n)]))
                at += n
            }
            guard case .result(let r) = try WireCodec.decode(frames) else { throw PayloadError("the frames are not a RESULT") }
            return .result(r)
        }
    }

    struct PayloadError: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    /// CRC-32C over the length field and the payload: a flipped length is caught too.
    static func checksum(length: some Collection<UInt8>, payload: some Collection<UInt8>) -> UInt32 {
        CRC32C.checksum(payload, continuing: CRC32C.checksum(length))
    }

    static func append(_ value: UInt32, to bytes: inout [UInt8]) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }

    static func append(_ value: UInt64, to bytes: inout [UInt8]) {
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }

    /// The little-endian u32 at `offset` (the caller checked that 4 bytes are there).
    static func integer<C: RandomAccessCollection<UInt8>>(_ bytes: C, at offset: C.Index) -> UInt32 where C.Index == Int {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) }
    }
}
