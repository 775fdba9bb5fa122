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

    mutating func receive(_ c: BlobChunk, now: UInt64) -> Step {
        guard c.digest == digest, outstanding.removeValue(forKey: c.offset) != nil else { return .request([]) }   // late or duplicate
        if total == nil {
            guard c.totalBytes <= maxBytes else { return .failed("blob \(digest) is \(c.totalBytes) bytes, more than the \(maxBytes) accepted") }
            total = c.totalBytes
            data = [UInt8](repeating: 0, count: Int(c.totalBytes))
        }
        let total = self.total ?? 0
        let expected = min(UInt64(chunkBytes), total - min(total, c.offset))
        guard c.totalBytes == total, c.offset <= total, UInt64(c.data.count) == expected else {
            return .failed("blob \(digest): inconsistent chunk at offset \(c.offset) (\(c.data.count) bytes of \(c.totalBytes))")
        }
        data.replaceSubrange(Int(c.offset)..<(Int(c.offset) + c.data.count), with: c.data)
        received += UInt64(c.data.count)
        if received >= total {
            return WireDigest(Digest.sha256(data)) == digest ? .complete(data) : .failed("blob \(digest) does not match its digest")
        }
        var more: [BlobRequest] = []
        while outstanding.count < Self.window, nextOffset < total { more.append(request(at: nextOffset, now: now)) }
        return .request(more)
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
