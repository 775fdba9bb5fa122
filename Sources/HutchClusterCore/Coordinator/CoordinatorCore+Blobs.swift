import HutchWire

/// Serving blobs (wire.md 5.5): one BLOB_CHUNK per BLOB_REQUEST, read from `served` (or the
/// plan's body) a chunk at a time.
extension CoordinatorCore {
    mutating func serveBlob(_ peer: [UInt8], _ r: BlobRequest, _ now: UInt64, _ out: inout [CoordinatorAction]) {
        let plan = planBroadcast.flatMap { $0.digest == r.digest ? $0.body : nil }
        let answer = BlobServing.answer(r, maxChunk: WireLimits.defaultChunkBytes) { [served] offset, length in
            if let plan { return BlobServing.slice(plan, offset: offset, length: length) }
            return try served.chunk(r.digest, offset: offset, length: length)
        }
        if case .error(let e) = answer { out.append(.log("cannot serve \(r.digest) to \(peerName(peer)): \(e.message)")) }
        send(peer, answer, now, &out)
    }
}
