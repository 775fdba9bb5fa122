import HutchModel
import HutchWire

/// The requester's side of blob transfer (wire.md 5.5): consecutive ranges of `chunkBytes`, at
/// most `window` requests outstanding, the size learned from the first chunk, the SHA-256 checked
/// at the end. Pure: the caller sends the requests it returns.
struct BlobAssembly: Sendable {
    enum Step: Sendable {
        /// Send these requests (possibly none: wait for the outstanding ones).
        case request([BlobRequest])
        /// Every byte is here and the digest matches.
        case complete([UInt8])
        /// The holder sent something inconsistent, or the bytes do not match the digest.
        case failed(String)
    }

    static let window = 10
    let digest: WireDigest
    let chunkBytes: UInt32
    /// The largest blob accepted (a bound on what a holder can make the requester allocate).
    let maxBytes: UInt64
    var total: UInt64?
    /// The bytes so far, filled by `receive` only (`accept` leaves them to the caller).
    var data: [UInt8] = []
    var received: UInt64 = 0
    /// offset → when requested
    var outstanding: [UInt64: UInt64] = [:]
    var nextOffset: UInt64 = 0

    init(digest: WireDigest, chunkBytes: UInt32, maxBytes: UInt64) {
        self.digest = digest
        self.chunkBytes = max(1, chunkBytes)
        self.maxBytes = maxBytes
    }

    /// The first request (the size is not known before its answer).
    mutating func start(now: UInt64) -> [BlobRequest] { [request(at: 0, now: now)] }

    /// What `accept` made of a chunk (the chunk's bytes are the caller's to keep).
    enum Accepted: Sendable {
        /// Late or duplicate: nothing to do.
        case ignored
        /// A new chunk; send these requests (possibly none).
        case more([BlobRequest])
        /// The last missing chunk: every byte has arrived (the digest is the caller's to check).
        case last
        /// The holder sent something inconsistent.
        case failed(String)
    }

    /// Checks a chunk against the requests and the size, without keeping its bytes (a worker
    /// writes them to its `FetchedBlobStore`).
    mutating func accept(_ c: BlobChunk, now: UInt64) -> Accepted {
        guard c.digest == digest, outstanding.removeValue(forKey: c.offset) != nil else { return .ignored }
        if total == nil {
            guard c.totalBytes <= maxBytes else { return .failed("blob \(digest) is \(c.totalBytes) bytes, more than the \(maxBytes) accepted") }
            total = c.totalBytes
        }
        let total = self.total ?? 0
        let expected = min(UInt64(chunkBytes), total - min(total, c.offset))
        guard c.totalBytes == total, c.offset <= total, UInt64(c.data.count) == expected else {
            return .failed("blob \(digest): inconsistent chunk at offset \(c.offset) (\(c.data.count) bytes of \(c.totalBytes))")
        }
        received += UInt64(c.data.count)
        if received >= total { return .last }
        var more: [BlobRequest] = []
        while outstanding.count < Self.window, nextOffset < total { more.append(request(at: nextOffset, now: now)) }
        return .more(more)
    }

    /// `accept`, with the bytes assembled in memory and the digest checked at the end.
    mutating func receive(_ c: BlobChunk, now: UInt64) -> Step {
        let accepted = accept(c, now: now)
        switch accepted {
        case .ignored: return .request([])
        case .failed(let why): return .failed(why)
        case .more, .last:
            if data.isEmpty, let total, total > 0 { data = [UInt8](repeating: 0, count: Int(total)) }
            data.replaceSubrange(Int(c.offset)..<(Int(c.offset) + c.data.count), with: c.data)
            if case .more(let more) = accepted { return .request(more) }
            return WireDigest(Digest.sha256(data)) == digest ? .complete(data) : .failed("blob \(digest) does not match its digest")
        }
    }

    /// Requests unanswered for `afterMs`, sent again (lost with a reconnect).
    mutating func overdue(now: UInt64, afterMs: UInt64) -> [BlobRequest] {
        outstanding.filter { now - min(now, $0.value) >= afterMs }.keys.sorted().map { request(at: $0, now: now) }
    }

    private mutating func request(at offset: UInt64, now: UInt64) -> BlobRequest {
        outstanding[offset] = now
        nextOffset = max(nextOffset, offset + UInt64(chunkBytes))
        return BlobRequest(digest: digest, offset: offset, length: chunkBytes)
    }
}
