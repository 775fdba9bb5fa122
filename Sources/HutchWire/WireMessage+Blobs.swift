/// Blob transfer by digest in bounded chunks (ZeroMQ guide ch. 7): each BLOB_REQUEST is one unit
/// of credit, answered by exactly one BLOB_CHUNK or BLOB_UNKNOWN. Either side may serve blobs.

/// BLOB_REQUEST: send me `length` bytes of blob `digest` from `offset`.
public struct BlobRequest: Hashable, Sendable {
    public var digest: WireDigest
    public var offset: UInt64
    public var length: UInt32

    public init(digest: WireDigest, offset: UInt64, length: UInt32) {
        self.digest = digest; self.offset = offset; self.length = length
    }

    func validate() throws(WireError) {
        try Check.range(length, WireLimits.chunkBytes, .blobRequest, "length")
        guard offset <= UInt64.max - UInt64(length) else {
            throw .inconsistent(.blobRequest, field: "offset", detail: "offset + length overflows 64 bits")
        }
    }
}

/// BLOB_CHUNK: `data` is blob `digest` from `offset`; shorter than requested only at the end.
public struct BlobChunk: Hashable, Sendable {
    public var digest: WireDigest
    public var offset: UInt64
    /// Size of the whole blob, so the receiver can plan its requests after the first chunk.
    public var totalBytes: UInt64
    public var data: [UInt8]

    public init(digest: WireDigest, offset: UInt64, totalBytes: UInt64, data: [UInt8]) {
        self.digest = digest; self.offset = offset; self.totalBytes = totalBytes; self.data = data
    }

    func validate() throws(WireError) {
        try Check.length(data.count, 0...Int(WireLimits.chunkBytes.upperBound), .blobChunk, "data")
        guard offset <= totalBytes, UInt64(data.count) <= totalBytes - offset else {
            throw .inconsistent(.blobChunk, field: "data",
                                detail: "offset \(offset) + \(data.count) bytes exceeds total \(totalBytes)")
        }
    }
}

/// BLOB_UNKNOWN: the answer to a BLOB_REQUEST for a digest the sender does not hold.
public struct BlobUnknown: Hashable, Sendable {
    public var digest: WireDigest
    public init(digest: WireDigest) { self.digest = digest }
}
