import CSodium
import Foundation

extension Digest {
    /// SHA-256 of the file at `path`, read `chunkBytes` at a time (memory does not grow with the
    /// file), in the form of `sha256(_:)`.
    public static func sha256(fileAt path: String, chunkBytes: Int = 1 << 20) throws -> String {
        guard let file = FileByteSource(path: path) else {
            throw ModelError.unreadableFile(path: path, reason: "cannot open it to check its digest")
        }
        return try sha256(of: [file], chunkBytes: chunkBytes)
    }

    /// SHA-256 of the bytes of `files` one after the other (the digest of an .npy pair), read
    /// `chunkBytes` at a time.
    public static func sha256(of files: [any ByteSource], chunkBytes: Int = 1 << 20) throws -> String {
        var hash = SHA256Stream()
        for file in files {
            try file.forEachChunk(of: 0..<file.count, chunkBytes: chunkBytes) { chunk in hash.update(chunk) }
        }
        return hash.finish()
    }
}

/// SHA-256 of bytes that arrive in pieces, in the form of `Digest.sha256(_:)`.
public struct SHA256Stream {
    private var state = crypto_hash_sha256_state()

    public init() { crypto_hash_sha256_init(&state) }

    public mutating func update(_ bytes: some ContiguousBytes) {
        bytes.withUnsafeBytes { raw in
            _ = crypto_hash_sha256_update(&state, raw.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(raw.count))
        }
    }

    /// The digest of everything so far ("sha256:…").
    public mutating func finish() -> String {
        var hash = [UInt8](repeating: 0, count: Int(crypto_hash_sha256_BYTES))
        crypto_hash_sha256_final(&state, &hash)
        return "sha256:" + hash.map { String(format: "%02x", $0) }.joined()
    }
}

/// A sink that hashes what it passes on (a file written and digested in one pass).
public struct DigestingSink<Inner: ByteSink>: ByteSink {
    public var inner: Inner
    public var hash = SHA256Stream()

    public init(_ inner: Inner) { self.inner = inner }

    public mutating func write(_ bytes: [UInt8]) throws {
        hash.update(bytes)
        try inner.write(bytes)
    }
}
