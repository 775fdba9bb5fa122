import HutchWire

/// The holder's side of blob transfer (wire.md 5.5), the same for the coordinator (model, data,
/// plan) and a worker (the RESULT blobs it produced): one answer per BLOB_REQUEST.
enum BlobServing {
    /// BLOB_CHUNK with min(length, maxChunk, total − offset) bytes, BLOB_UNKNOWN for a blob not
    /// held, ERROR for an offset past the end or a read that failed (its one line, and the blob's
    /// digest so the requester knows which fetch failed). `read` gives
    /// the blob's size and the bytes from an offset (clamped to the end), at most a length of
    /// them; nil for a blob not held.
    static func answer(_ r: BlobRequest, maxChunk: UInt32,
                       read: (_ offset: UInt64, _ length: UInt64) throws -> (total: UInt64, bytes: [UInt8])?) -> WireMessage {
        let held: (total: UInt64, bytes: [UInt8])?
        do {
            held = try read(r.offset, UInt64(min(r.length, maxChunk)))
        } catch {
            return .error(ErrorReply(code: .unexpected, command: WireCommand.blobRequest.rawValue, message: "\(error)", digest: r.digest))
        }
        guard let (total, bytes) = held else {
            return .blobUnknown(BlobUnknown(digest: r.digest))
        }
        guard r.offset <= total else {
            return .error(ErrorReply(code: .unexpected, command: WireCommand.blobRequest.rawValue,
                                     message: "offset \(r.offset) is past the blob's \(total) bytes", digest: r.digest))
        }
        return .blobChunk(BlobChunk(digest: r.digest, offset: r.offset, totalBytes: total, data: bytes))
    }

    /// A blob's size and its bytes from `offset` (clamped to the end), at most `length` of them.
    static func slice(_ blob: [UInt8], offset: UInt64, length: UInt64) -> (total: UInt64, bytes: [UInt8]) {
        let total = UInt64(blob.count)
        let start = min(offset, total), end = start + min(length, total - start)
        return (total, Array(blob[Int(start)..<Int(end)]))
    }
}
