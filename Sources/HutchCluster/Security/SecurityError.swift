import HutchErrors

/// Why a key, key file or authorized-keys file is unusable. Every description is one line that
/// names the file (and line) and says what to do.
public typealias SecurityError = OneLineError<SecurityErrorKind>

public enum SecurityErrorKind: Hashable, Sendable {
    /// Not Z85 text of the right length, or not 32 bytes.
    case invalidKey
    /// A key file that cannot be read or written, or exists already.
    case keyFile
    /// A secret key file that others may read (mode not 0600 or stricter).
    case insecurePermissions
    /// A malformed authorized-keys file (every bad line listed).
    case authorizedKeys
    /// libzmq has no CURVE, or its key generation failed.
    case unavailable
}
