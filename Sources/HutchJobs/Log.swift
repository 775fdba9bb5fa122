import Foundation

/// A progress or log line on stderr.
public func log(_ message: String) {
    FileHandle.standardError.write(Data("hutch: \(message)\n".utf8))
}
