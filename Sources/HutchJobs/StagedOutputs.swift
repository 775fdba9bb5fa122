import Foundation
import HutchModel

/// One output file: its bytes written to the open file, possibly a piece at a time (the
/// streaming QDQ writer), so a large file never needs to be held whole.
struct StagedOutput {
    let path: String
    let write: (inout FileSink) throws -> Void

    init(path: String, write: @escaping (inout FileSink) throws -> Void) {
        self.path = path
        self.write = write
    }

    init(path: String, data: Data) {
        self.init(path: path) { try $0.write([UInt8](data)) }
    }
}

/// Every output goes to a temporary file in its destination directory first; only when all are
/// written are they renamed into place, so a failure leaves no output (and no temporary) behind.
func writeAllOrNothing(_ outputs: [(path: String, data: Data)]) throws {
    try writeAllOrNothing(outputs.map { StagedOutput(path: $0.path, data: $0.data) })
}

func writeAllOrNothing(_ outputs: [StagedOutput]) throws {
    // devices and pipes cannot be renamed over; they are written last, in place
    let inPlace = outputs.filter { isSpecialFile($0.path) }
    let outputs = outputs.filter { !isSpecialFile($0.path) }
    var staged: [(temporary: URL, path: String)] = []
    func discard() { for item in staged { try? FileManager.default.removeItem(at: item.temporary) } }
    for output in outputs {
        let url = URL(fileURLWithPath: output.path)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)")
        staged.append((temporary, output.path))
        do {
            guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
                throw CommandFailure(.io, "cannot write '\(output.path)': \(String(cString: strerror(errno)))")
            }
            let handle = try FileHandle(forWritingTo: temporary)
            defer { try? handle.close() }
            var sink = FileSink(handle)
            try output.write(&sink)
            try sink.flush()
        } catch {
            discard()
            throw writeFailure(error, path: output.path)
        }
    }
    for item in staged {
        guard rename(item.temporary.path, item.path) == 0 else {
            let reason = String(cString: strerror(errno))
            discard()
            throw CommandFailure(.io, "cannot move the finished file into place at '\(item.path)': \(reason)")
        }
    }
    for output in inPlace { try writeInPlace(output) }
}

/// The file's own errors are I/O; a writer's (a layer read back wrong) keep their kind.
func writeFailure(_ error: Error, path: String) -> Error {
    let system = [NSCocoaErrorDomain, NSPOSIXErrorDomain].contains((error as NSError).domain)
    return system ? CommandFailure(.io, "cannot write '\(path)': \((error as NSError).localizedDescription)") : error
}
