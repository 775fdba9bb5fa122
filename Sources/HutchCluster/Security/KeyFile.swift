import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Key files as `hutch keygen --out PREFIX` writes them, one line of text each:
/// - PREFIX.key: the 40 Z85 characters of the secret key and a newline; mode 0600.
/// - PREFIX.pub: the 40 Z85 characters of the public key, a space, a name (PREFIX's file name) and
///   a newline: a line of the authorized-keys format, so `cat w1.pub >> authorized_keys` works.
/// A secret key file that others may read is refused (as ssh refuses such keys): the key would
/// already be as good as public on a shared host. Group read is allowed only on a file owned by
/// root (PostgreSQL's rule for its key files): that is how Kubernetes mounts Secrets for a
/// non-root user (owner root, group fsGroup, mode 0440).
public enum KeyFile {
    /// Writes PREFIX.key (created with mode 0600, never wider) and PREFIX.pub. Each file is written
    /// under a temporary name and linked into place, so a reader never sees half a key; without
    /// `overwrite` an existing PREFIX.key or PREFIX.pub is an error and nothing is written.
    public static func write(_ pair: CurveKeyPair, prefix: String, overwrite: Bool) throws(SecurityError) {
        let secretPath = prefix + ".key", publicPath = prefix + ".pub"
        if !overwrite {
            for path in [secretPath, publicPath] where FileManager.default.fileExists(atPath: path) {
                throw SecurityError(.keyFile, "\(path) exists already; keep it, choose another --out, or add --force to replace the keypair")
            }
        }
        let name = URL(fileURLWithPath: prefix).lastPathComponent
        try writeFile(Array((pair.secretKey.z85 + "\n").utf8), to: secretPath, mode: 0o600, overwrite: overwrite)
        try writeFile(Array((pair.publicKey.z85 + " " + name + "\n").utf8), to: publicPath, mode: 0o644, overwrite: overwrite)
    }

    /// Reads a secret key file and derives its public key. Refused: a file others may read, group
    /// access beyond read on a root-owned file, anything but one line of 40 Z85 characters.
    public static func readSecret(_ path: String) throws(SecurityError) -> CurveKeyPair {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw SecurityError(.keyFile, "cannot read the secret key file '\(path)': \(String(cString: strerror(errno)))")
        }
        let mode = info.st_mode & 0o777
        let allowed: mode_t = info.st_uid == 0 ? 0o037 : 0o077
        guard mode & allowed == 0 else {
            throw SecurityError(.insecurePermissions, "the secret key file '\(path)' may be read by others (mode \(String(mode, radix: 8))); "
                                + "run chmod 600 '\(path)' (and give the .key file of hutch keygen, not the .pub)")
        }
        let line = try oneLine(path, what: "secret key file")
        do {
            return try CurveKeyPair(secretKey: try CurveKey(z85: line))
        } catch {
            throw SecurityError(error.kind, "\(path): \(error.message); expected the one line hutch keygen writes to PREFIX.key")
        }
    }

    /// Reads a public key file: its line's first word is the key (a name may follow).
    public static func readPublic(_ path: String) throws(SecurityError) -> CurveKey {
        // both files are one Z85 key: only the name tells a secret key given by mistake
        guard !path.hasSuffix(".key") else {
            throw SecurityError(.keyFile, "\(path) is a secret key file; give the public key, the .pub file of the same keypair")
        }
        let line = try oneLine(path, what: "public key file")
        let word = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map(String.init) ?? ""
        do {
            return try CurveKey(z85: word)
        } catch {
            throw SecurityError(error.kind, "\(path): \(error.message); expected the line hutch keygen writes to PREFIX.pub")
        }
    }

    /// The file's only line, without its newline.
    static func oneLine(_ path: String, what: String) throws(SecurityError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SecurityError(.keyFile, "cannot read the \(what) '\(path)' (missing or unreadable)")
        }
        guard data.count <= 4096, var text = String(data: data, encoding: .utf8) else {
            throw SecurityError(.keyFile, "\(path) is not a \(what): not one short line of text")
        }
        if text.hasSuffix("\n") { text.removeLast() }
        if text.hasSuffix("\r") { text.removeLast() }
        guard !text.contains("\n") else {
            throw SecurityError(.keyFile, "\(path) has more than one line; a \(what) is one line")
        }
        return text
    }

    /// Creates a temporary file with `mode` (O_EXCL: never through someone else's file), writes
    /// and syncs it, then links it to `path` (fails if `path` exists) or renames it over `path`.
    static func writeFile(_ bytes: [UInt8], to path: String, mode: mode_t, overwrite: Bool) throws(SecurityError) {
        let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        func failure(_ what: String) -> SecurityError {
            SecurityError(.keyFile, "cannot \(what) '\(path)': \(String(cString: strerror(errno)))")
        }
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw failure("create") }
        // the umask may have narrowed the mode; a public key should still be readable
        fchmod(fd, mode)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == bytes.count, synced else {
            let error = failure("write")
            unlink(temporary)
            throw error
        }
        if overwrite {
            guard rename(temporary, path) == 0 else {
                let error = failure("write")
                unlink(temporary)
                throw error
            }
        } else {
            let linked = link(temporary, path) == 0
            let error = failure(errno == EEXIST ? "replace the existing" : "write")
            unlink(temporary)
            guard linked else { throw error }
        }
    }
}
