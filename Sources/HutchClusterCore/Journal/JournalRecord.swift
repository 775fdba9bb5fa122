import HutchWire

/// One entry of the coordinator's journal (Protocols/journal.md).
public enum JournalRecord: Sendable, Equatable {
    /// A result the coordinator accepted, exactly as the worker's RESULT carried it.
    case result(WireTaskResult)
    /// The job's outputs are written; nothing follows.
    case jobComplete

    /// Payload type byte (journal.md 3).
    enum Tag: UInt8 {
        case result = 1
        case jobComplete = 2
        /// A result whose body (a pulled blob) is over the RESULT body limit.
        case resultWithLargeBody = 3
    }
}

/// The first bytes of a journal: which format, and which job its records belong to.
public struct JournalHeader: Sendable, Equatable {
    public var version: UInt32
    public var job: WireDigest
    public init(version: UInt32 = JournalCodec.version, job: WireDigest) {
        self.version = version
        self.job = job
    }
}

/// What reading a journal found: the header, the records of its valid prefix, and why the
/// rest (if any) was not read.
public struct JournalContents: Sendable {
    public enum Tail: Sendable, Equatable {
        /// The file ends exactly after the last record.
        case clean
        /// The file ends inside a record (a write cut short by a crash).
        case torn(offset: Int, String)
        /// A record's checksum or payload is wrong.
        case corrupt(offset: Int, String)
    }
    public var header: JournalHeader
    public var records: [JournalRecord]
    /// Bytes of header and valid records: where a writer continues after cutting the tail.
    public var validBytes: Int
    public var tail: Tail
    /// True when the last record says the job is complete.
    public var complete: Bool { records.last == .jobComplete }
}

/// Why a journal cannot be used at all (its header); a bad tail is not an error (see `Tail`).
public enum JournalError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Shorter than a header: nothing was ever committed to it.
    case noHeader(bytes: Int)
    case notAJournal
    case newerVersion(UInt32)
    case corruptHeader

    public var description: String {
        switch self {
        case .noHeader(let n): "the journal has \(n) bytes, less than its \(JournalCodec.headerBytes)-byte header"
        case .notAJournal: "the file does not start with the Hutch journal magic HUTCHJNL"
        case .newerVersion(let v): "the journal has format version \(v); this hutch reads version \(JournalCodec.version) (use a newer hutch)"
        case .corruptHeader: "the journal header's checksum is wrong"
        }
    }
}
