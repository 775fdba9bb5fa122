import HutchModel
import HutchWire

/// One blob being fetched from the coordinator, and how many times it was tried.
struct BlobFetch: Sendable {
    var assembly: BlobAssembly
    var attempts: Int
}

extension WorkerCore {
    /// Adds a blob from a local cache; refused (false) unless its SHA-256 is `digest`.
    @discardableResult
    public mutating func preload(_ digest: WireDigest, _ bytes: [UInt8]) -> Bool {
        guard WireDigest(Digest.sha256(bytes)) == digest else { return false }
        cache[digest] = bytes
        return true
    }

    /// Largest blob a worker accepts (a bound on what a coordinator can make it allocate).
    static let maxBlobBytes: UInt64 = 4 << 30

    mutating func startFetch(_ d: WireDigest, _ now: UInt64, _ out: inout [WorkerAction]) {
        var fetch = BlobFetch(assembly: BlobAssembly(digest: d, chunkBytes: chunkBytes, maxBytes: Self.maxBlobBytes),
                              attempts: (fetches[d]?.attempts ?? 0) + 1)
        for request in fetch.assembly.start(now: now) { send(.blobRequest(request), now, &out) }
        fetches[d] = fetch
    }

    mutating func receiveChunk(_ c: BlobChunk, _ now: UInt64, _ out: inout [WorkerAction]) {
        guard var fetch = fetches[c.digest] else { return }
        let step = fetch.assembly.receive(c, now: now)
        fetches[c.digest] = fetch
        switch step {
        case .request(let more):
            for request in more { send(.blobRequest(request), now, &out) }
        case .complete(let bytes):
            fetches[c.digest] = nil
            cache[c.digest] = bytes
            releaseWaiting(now, &out)
        case .failed(let why) where fetch.attempts < 3 && fetch.assembly.total.map({ $0 <= Self.maxBlobBytes }) ?? false:
            out.append(.log("\(why); fetching again"))
            startFetch(c.digest, now, &out)
        case .failed(let why):
            fetches[c.digest] = nil
            failWaiting(needing: c.digest, fetch.attempts > 1 ? "\(why) (\(fetch.attempts) times)" : why, now, &out)
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
            guard var fetch = fetches[d] else { continue }
            let again = fetch.assembly.overdue(now: now, afterMs: window)
            fetches[d] = fetch
            for request in again { send(.blobRequest(request), now, &out) }
        }
    }
}
