import CSodium
import Foundation

extension Digest {
    /// SHA-256 of the file at `path`, read `chunkBytes` at a time (memory does not grow with the
    /// file), in the form of `sha256(_:)`.
    public static func sha256(fileAt path: String, chunkBytes: Int = 1 << 20) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ModelError.unreadableFile(path: path, reason: "cannot open it to check its digest")
        }
        defer { try? handle.close() }
        var state = crypto_hash_sha256_state()
        crypto_hash_sha256_init(&state)
        while true {
            let chunk: Data
            do {
                guard let read = try handle.read(upToCount: chunkBytes), !read.isEmpty else { break }
                chunk = read
            } catch {
                throw ModelError.unreadableFile(path: path, reason: (error as NSError).localizedDescription)
            }
            chunk.withUnsafeBytes { raw in
                _ = crypto_hash_sha256_update(&state, raw.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(raw.count))
            }
        }
        var hash = [UInt8](repeating: 0, count: Int(crypto_hash_sha256_BYTES))
        crypto_hash_sha256_final(&state, &hash)
        return "sha256:" + hash.map { String(format: "%02x", $0) }.joined()
    }
}
