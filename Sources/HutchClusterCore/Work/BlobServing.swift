import HutchWire

/// The holder's side of blob transfer (wire.md 5.5), the same for the coordinator (model, data,
/// plan) and a worker (the RESULT blobs it produced): one answer per BLOB_REQUEST.
enum BlobServing {
    /// BLOB_CHUNK with min(length, maxChunk, total − offset) bytes, BLOB_UNKNOWN for a blob not
    /// held, ERROR for an offset past the end.
    static func answer(_ r: BlobRequest, from bytes: [UInt8]?, maxChunk: UInt32) -> WireMessage {
        guard let bytes else { return .blobUnknown(BlobUnknown(digest: r.digest)) }
        let total = UInt64(bytes.count)
        guard r.offset <= total else {
            return .error(ErrorReply(code: .unexpected, command: WireCommand.blobRequest.rawValue,
                                     message: "offset \(r.offset) is past the blob's \(total) bytes"))
        }
        let length = UInt64(min(r.length, maxChunk))
        let start = Int(r.offset), end = Int(min(total, r.offset + length))
        return .blobChunk(BlobChunk(digest: r.digest, offset: r.offset, totalBytes: total, data: Array(bytes[start..<end])))
    }
}
