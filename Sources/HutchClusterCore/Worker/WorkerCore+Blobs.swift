import HutchModel
import HutchWire

/// One blob being fetched from the coordinator, and how many times it was tried (its bytes go
/// to the worker's `FetchedBlobStore`, never into the core).
struct BlobFetch: Sendable {
    var assembly: BlobAssembly
    var attempts: Int
}

extension WorkerCore {
    /// Largest blob a worker accepts (a bound on what a coordinator can make it allocate).
    static let maxBlobBytes: UInt64 = 4 << 30

    mutating func startFetch(_ d: WireDigest, _ now: UInt64, _ out: inout [WorkerAction]) {
        do {
            try fetched.begin(d)
        } catch {
            failWaiting(needing: d, "cannot keep blob \(d): \(error)", now, &out)
            return
        }
        var fetch = BlobFetch(assembly: BlobAssembly(digest: d, chunkBytes: chunkBytes, maxBytes: Self.maxBlobBytes),
                              attempts: (fetches[d]?.attempts ?? 0) + 1)
        for request in fetch.assembly.start(now: now) { send(.blobRequest(request), now, &out) }
        fetches[d] = fetch
    }

    /// Each chunk goes to the store as it arrives; the digest is checked after the last one.
    mutating func receiveChunk(_ c: BlobChunk, _ now: UInt64, _ out: inout [WorkerAction]) {
        guard var fetch = fetches[c.digest] else { return }
        let step = fetch.assembly.accept(c, now: now)
        fetches[c.digest] = fetch
        let d = c.digest
        switch step {
        case .ignored:
            return
        case .failed(let why):
            retryOrFail(d, why, fetch, now, &out)
        case .more, .last:
            do {
                try fetched.write(d, offset: c.offset, c.data)
                if case .more(let more) = step {
                    for request in more { send(.blobRequest(request), now, &out) }
                    return
                }
                guard try fetched.finish(d) else { return retryOrFail(d, "blob \(d) does not match its digest", fetch, now, &out) }
            } catch {
                fetches[d] = nil
                fetched.discard(d)
                failWaiting(needing: d, "cannot keep blob \(d): \(error)", now, &out)
                return
            }
            fetches[d] = nil
            out.append(.log("fetched blob \(d) (\(fetch.assembly.total ?? 0) bytes)"))
            releaseWaiting(now, &out)
        }
    }

    /// A failed fetch is tried three times in all, then the tasks that need the blob fail (wire.md 5.5).
    mutating func retryOrFail(_ d: WireDigest, _ why: String, _ fetch: BlobFetch, _ now: UInt64, _ out: inout [WorkerAction]) {
        fetched.discard(d)
        if fetch.attempts < 3 && fetch.assembly.total.map({ $0 <= Self.maxBlobBytes }) ?? false {
            out.append(.log("\(why); fetching again"))
            startFetch(d, now, &out)
        } else {
            fetches[d] = nil
            failWaiting(needing: d, fetch.attempts > 1 ? "\(why) (\(fetch.attempts) times)" : why, now, &out)
        }
    }

    /// Hands tasks whose blobs are all here to the compute thread.
    mutating func releaseWaiting(_ now: UInt64, _ out: inout [WorkerAction]) {
        var still: [ComputeRequest] = []
        for var request in waiting {
            if request.needs.allSatisfy({ fetched.holds($0) }) {
                for d in request.needs { request.blobs[d] = fetched.location(d) }
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
