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
        var state = crypto_hash_sha256_state()
        crypto_hash_sha256_init(&state)
        for file in files {
            try file.forEachChunk(of: 0..<file.count, chunkBytes: chunkBytes) { chunk in
                _ = crypto_hash_sha256_update(&state, chunk, UInt64(chunk.count))
            }
        }
        var hash = [UInt8](repeating: 0, count: Int(crypto_hash_sha256_BYTES))
        crypto_hash_sha256_final(&state, &hash)
        return "sha256:" + hash.map { String(format: "%02x", $0) }.joined()
    }
}
