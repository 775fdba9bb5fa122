import HutchWire

/// RESULTs whose body is a blob the worker holds (a quantized layer over the RESULT body limit,
/// wire.md 11.3): the coordinator pulls it in chunks from that worker, and the result counts,
/// with its whole body, once every byte is here and matches the digest. The worker keeps its
/// lease meanwhile, so a worker lost mid-pull gives the task back like any other lease.
struct ResultPull: Sendable {
    var peer: [UInt8]
    /// The RESULT as the worker sent it: one blob, an empty body.
    var result: WireTaskResult
    var assembly: BlobAssembly
}

extension CoordinatorCore {
    /// Largest RESULT blob accepted for a layer: its packed form at the widest width (16 bits a
    /// weight) with a float scale and zero point per output channel, and 64 KiB for headers and
    /// names. A worker cannot make the coordinator allocate more than the layer can need.
    func maxResultBlobBytes(layer: Int) -> UInt64 {
        guard let layers = quantizeGraph?.quantizableLayers, layers.indices.contains(layer) else { return 1 << 16 }
        let weights = UInt64(layers[layer].parameterCount)
        let channels = UInt64(layers[layer].shape.max() ?? 1)
        return 2 * weights + 8 * channels + (1 << 16)
    }

    /// A quantize RESULT that lists one blob and has no body: the body is that blob.
    static func isPulled(_ r: WireTaskResult) -> Bool { r.kind == .quantize && r.blobs.count == 1 && r.body.isEmpty && r.values.isEmpty }

    /// Pulls are keyed by lease: under redundant execution two workers' results of one task may
    /// be pulled at once; a repeated RESULT of a lease joins its pull.
    mutating func startPull(_ peer: [UInt8], _ r: WireTaskResult, layer: Int, _ now: UInt64, _ out: inout [CoordinatorAction]) {
        guard pulls[r.leaseID] == nil, let digest = r.blobs.first else { return }
        var assembly = BlobAssembly(digest: digest, chunkBytes: WireLimits.defaultChunkBytes, maxBytes: maxResultBlobBytes(layer: layer))
        for request in assembly.start(now: now) { send(peer, .blobRequest(request), now, &out) }
        pulls[r.leaseID] = ResultPull(peer: peer, result: r, assembly: assembly)
    }

    mutating func receivePulledChunk(_ peer: [UInt8], _ c: BlobChunk, _ now: UInt64, _ out: inout [CoordinatorAction]) {
        guard let lease = pulls.keys.sorted().first(where: { pulls[$0]?.peer == peer && pulls[$0]?.assembly.digest == c.digest }),
              var pull = pulls[lease] else { return }   // late: the pull ended
        let step = pull.assembly.receive(c, now: now)
        pulls[lease] = pull
        let id = pull.result.taskID
        switch step {
        case .request(let more):
            for request in more { send(peer, .blobRequest(request), now, &out) }
        case .complete(let bytes):
            pulls[lease] = nil
            var whole = pull.result
            whole.body = bytes
            whole.blobs = []
            accept(peer, whole, now, &out)
        case .failed(let why):
            pulls[lease] = nil
            strike(peer, id, "the blob of task \(id)'s result: \(why)", now, &out)
        }
    }

    /// The worker no longer holds the blob (it restarted): the task runs again.
    mutating func pulledBlobUnknown(_ peer: [UInt8], _ digest: WireDigest, _ out: inout [CoordinatorAction]) {
        for lease in pulls.keys.sorted() where pulls[lease]?.peer == peer && pulls[lease]?.assembly.digest == digest {
            guard let id = pulls.removeValue(forKey: lease)?.result.taskID else { continue }
            out.append(.log("worker \(peerName(peer)) no longer holds the result blob of task \(id); re-queued"))
            peers[peer]?.leases.remove(id)
            if tasks[id]?.lease?.peer == peer { endLease(id) }
        }
    }

    /// Requests unanswered for a liveness window go again; pulls from a dropped worker end (its
    /// leases went back to the queue with it).
    mutating func resumePulls(_ now: UInt64, _ out: inout [CoordinatorAction]) {
        for lease in pulls.keys.sorted() {
            guard var pull = pulls[lease] else { continue }
            guard let p = peers[pull.peer], tasks[pull.result.taskID]?.done == false else { pulls[lease] = nil; continue }
            let again = pull.assembly.overdue(now: now, afterMs: UInt64(config.liveness) * UInt64(p.heartbeatMs))
            pulls[lease] = pull
            for request in again { send(pull.peer, .blobRequest(request), now, &out) }
        }
    }
}
