import HutchModel
import HutchWire

/// One blob being fetched in chunks (wire.md 5.5): at most `window` requests outstanding.
struct BlobFetch: Sendable {
    var total: UInt64?
    var data: [UInt8] = []
    var received: UInt64 = 0
    /// offset → when requested
    var outstanding: [UInt64: UInt64] = [:]
    var nextOffset: UInt64 = 0
    var attempts = 1
}

extension WorkerCore {
    /// Adds a blob from a local cache; refused (false) unless its SHA-256 is `digest`.
    @discardableResult
    public mutating func preload(_ digest: WireDigest, _ bytes: [UInt8]) -> Bool {
        guard WireDigest(Digest.sha256(bytes)) == digest else { return false }
        cache[digest] = bytes
        return true
    }

    static let blobWindow = 10
    /// Largest blob a worker accepts (a bound on what a coordinator can make it allocate).
    static let maxBlobBytes: UInt64 = 4 << 30

    mutating func startFetch(_ d: WireDigest, _ now: UInt64, _ out: inout [WorkerAction]) {
        var fetch = BlobFetch()
        fetch.attempts = (fetches[d]?.attempts ?? 0) + 1
        fetches[d] = fetch
        request(d, offset: 0, now, &out)
    }

    mutating func request(_ d: WireDigest, offset: UInt64, _ now: UInt64, _ out: inout [WorkerAction]) {
        guard var fetch = fetches[d] else { return }
        fetch.outstanding[offset] = now
        fetch.nextOffset = max(fetch.nextOffset, offset + UInt64(chunkBytes))
        fetches[d] = fetch
        send(.blobRequest(BlobRequest(digest: d, offset: offset, length: chunkBytes)), now, &out)
    }

    mutating func receiveChunk(_ c: BlobChunk, _ now: UInt64, _ out: inout [WorkerAction]) {
        guard var fetch = fetches[c.digest], fetch.outstanding.removeValue(forKey: c.offset) != nil else { return }
        if fetch.total == nil {
            guard c.totalBytes <= Self.maxBlobBytes else {
                fetches[c.digest] = nil
                failWaiting(needing: c.digest, "blob \(c.digest) is \(c.totalBytes) bytes, more than this worker accepts", now, &out)
                return
            }
            fetch.total = c.totalBytes
            fetch.data = [UInt8](repeating: 0, count: Int(c.totalBytes))
        }
        let total = fetch.total ?? 0
        let expected = min(UInt64(chunkBytes), total - min(total, c.offset))
        guard c.totalBytes == total, c.offset <= total, UInt64(c.data.count) == expected else {
            fetches[c.digest] = nil
            failWaiting(needing: c.digest, "blob \(c.digest): inconsistent chunk at offset \(c.offset)", now, &out)
            return
        }
        fetch.data.replaceSubrange(Int(c.offset)..<(Int(c.offset) + c.data.count), with: c.data)
        fetch.received += UInt64(c.data.count)
        fetches[c.digest] = fetch
        while (fetches[c.digest]?.outstanding.count ?? Self.blobWindow) < Self.blobWindow,
              let next = fetches[c.digest]?.nextOffset, next < total {
            request(c.digest, offset: next, now, &out)
        }
        guard fetch.received >= total else { return }
        fetches[c.digest] = nil
        if WireDigest(Digest.sha256(fetch.data)) == c.digest {
            cache[c.digest] = fetch.data
            releaseWaiting(now, &out)
        } else if fetch.attempts < 3 {
            out.append(.log("blob \(c.digest) failed its digest check; fetching again"))
            fetches[c.digest] = BlobFetch(attempts: fetch.attempts)
            startFetch(c.digest, now, &out)
        } else {
            failWaiting(needing: c.digest, "blob \(c.digest) failed its digest check \(fetch.attempts) times", now, &out)
        }
    }

    /// Hands tasks whose blobs are all here to the compute thread.
    mutating func releaseWaiting(_ now: UInt64, _ out: inout [WorkerAction]) {
        var still: [ComputeRequest] = []
        for var request in waiting {
            if request.needs.allSatisfy({ cache[$0] != nil }) {
                for d in request.needs { request.blobs[d] = cache[d] }
                out.append(.compute(request))
            } else {
                still.append(request)
            }
        }
        waiting = still
    }

    mutating func failWaiting(needing d: WireDigest, _ why: String, _ now: UInt64, _ out: inout [WorkerAction]) {
        let failed = waiting.filter { $0.needs.contains(d) }
        waiting.removeAll { $0.needs.contains(d) }
        for request in failed where held[request.taskID] == request.leaseID {
            held[request.taskID] = nil
            send(.failure(TaskFailure(taskID: request.taskID, leaseID: request.leaseID, failureClass: .retryable,
                                      message: String(why.prefix(1000)))), now, &out)
        }
    }

    /// Requests unanswered for liveness × heartbeat are sent again (lost on a reconnect).
    mutating func resendBlobRequests(_ now: UInt64, _ out: inout [WorkerAction]) {
        let window = UInt64(liveness) * UInt64(heartbeatMs)
        for d in fetches.keys.sorted(by: { $0.bytes.lexicographicallyPrecedes($1.bytes) }) {
            for (offset, at) in fetches[d]?.outstanding ?? [:] where now - min(now, at) >= window {
                request(d, offset: offset, now, &out)
            }
        }
    }
}
