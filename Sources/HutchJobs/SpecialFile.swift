import Foundation
import HutchModel

/// Whether `path` names an existing file that is not a regular file: a device such as /dev/null,
/// a named pipe, /dev/stdout. Such a destination is written in place: renaming a finished
/// temporary file over it would replace the device (as root, `--out /dev/null` once turned
/// /dev/null into a regular file).
func isSpecialFile(_ path: String) -> Bool {
    var info = stat()
    guard stat(path, &info) == 0 else { return false }   // missing: a new regular file
    let type = info.st_mode & S_IFMT
    return type != S_IFREG && type != S_IFDIR
}

/// Writes `output` straight into an existing special file (no temporary, no rename).
func writeInPlace(_ output: StagedOutput) throws {
    guard let handle = FileHandle(forWritingAtPath: output.path) else {
        throw CommandFailure(.io, "cannot write '\(output.path)': \(String(cString: strerror(errno)))")
    }
    defer { try? handle.close() }
    do {
        var sink = FileSink(handle)
        try output.write(&sink)
        try sink.flush()
    } catch {
        throw writeFailure(error, path: output.path)
    }
}
