/// A packed weight file that cannot be written or read. One line naming the file and what to do.
public struct PackedWeightFileError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Problem: Error, Equatable, Sendable {
        case notAPackedWeightFile
        case unsupportedVersion(UInt32)
        case truncated(expectedBytes: UInt64, actualBytes: Int)
        case trailingBytes(expectedBytes: UInt64, actualBytes: Int)
        case checksumMismatch(stored: UInt32, computed: UInt32)
        /// A field of layer `layer` (its name, or its index when the name is not known yet).
        case invalidField(layer: String, field: String, reason: String)
        case io(String)
    }

    public var file: String
    public var problem: Problem

    public init(file: String, _ problem: Problem) {
        self.file = file
        self.problem = problem
    }

    public var description: String {
        let what: String
        switch problem {
        case .notAPackedWeightFile:
            what = "not a Hutch packed weight file (bad magic); pass a file written by `hutch quantize --packed`"
        case .unsupportedVersion(let v):
            what = "packed weight format version \(v) is not supported (this Hutch reads version \(PackedWeightFile.version)); use a matching Hutch"
        case .truncated(let expected, let actual):
            what = "truncated: the header says \(expected) bytes but the file has \(actual); copy or write it again"
        case .trailingBytes(let expected, let actual):
            what = "has \(actual) bytes but the header says \(expected); the file is corrupt or was appended to"
        case .checksumMismatch(let stored, let computed):
            what = "checksum mismatch (stored \(hex(stored)), computed \(hex(computed))): the file is corrupt; write it again"
        case .invalidField(let layer, let field, let reason):
            what = "layer \(layer): \(field) \(reason)"
        case .io(let message):
            what = message
        }
        return "\(file): \(what)"
    }

    private func hex(_ v: UInt32) -> String {
        let digits = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}
