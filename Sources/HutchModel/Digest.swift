import CSodium
import Foundation

/// Content digests ("sha256:<hex>") that name models, data and other inputs in every output
/// and on the wire, so that a plan or journal can be checked against the inputs it was made from.
public enum Digest {
    /// SHA-256 of `bytes`, as "sha256:" followed by 64 lowercase hex digits.
    public static func sha256(_ bytes: some ContiguousBytes) -> String {
        var hash = [UInt8](repeating: 0, count: Int(crypto_hash_sha256_BYTES))
        bytes.withUnsafeBytes { raw in
            let base = raw.baseAddress?.assumingMemoryBound(to: UInt8.self)
            _ = crypto_hash_sha256(&hash, base, UInt64(raw.count))
        }
        return "sha256:" + hash.map { hexDigits[Int($0 >> 4)] + hexDigits[Int($0 & 0xF)] }.joined()
    }

    private static let hexDigits = "0123456789abcdef".map(String.init)
}
