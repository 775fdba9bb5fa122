import HutchWire

/// Serving blobs (wire.md 5.5): one BLOB_CHUNK per BLOB_REQUEST.
extension CoordinatorCore {
    mutating func serveBlob(_ peer: [UInt8], _ r: BlobRequest, _ now: UInt64, _ out: inout [CoordinatorAction]) {
        send(peer, BlobServing.answer(r, from: blobs[r.digest], maxChunk: WireLimits.defaultChunkBytes), now, &out)
    }
}
