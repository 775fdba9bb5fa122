import Foundation

/// The version written into sensitivity.json, job.json and run.json, and printed by `hutch --version`.
public let hutchVersion = "0.1.0"

/// A progress or log line on stderr.
public func log(_ message: String) {
    FileHandle.standardError.write(Data("hutch: \(message)\n".utf8))
}
