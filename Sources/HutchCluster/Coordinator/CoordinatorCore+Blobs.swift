import HutchWire

/// Serving blobs (wire.md 5.5): one BLOB_CHUNK per BLOB_REQUEST.
extension CoordinatorCore {
    mutating func serveBlob(_ peer: [UInt8], _ r: BlobRequest, _ now: UInt64, _ out: inout [CoordinatorAction]) {
        guard let bytes = blobs[r.digest] else {
            send(peer, .blobUnknown(BlobUnknown(digest: r.digest)), now, &out)
            return
        }
        let total = UInt64(bytes.count)
        guard r.offset <= total else {
            send(peer, .error(ErrorReply(code: .unexpected, command: WireCommand.blobRequest.rawValue,
                                         message: "offset \(r.offset) is past the blob's \(total) bytes")), now, &out)
            return
        }
        let length = UInt64(min(r.length, WireLimits.defaultChunkBytes))
        let start = Int(r.offset), end = Int(min(total, r.offset + length))
        send(peer, .blobChunk(BlobChunk(digest: r.digest, offset: r.offset, totalBytes: total, data: Array(bytes[start..<end]))), now, &out)
    }
}
