import Foundation

/// Every output goes to a temporary file in its destination directory first; only when all are
/// written are they renamed into place, so a failure leaves no output (and no temporary) behind.
func writeAllOrNothing(_ outputs: [(path: String, data: Data)]) throws {
    var staged: [(temporary: URL, path: String)] = []
    func discard() { for item in staged { try? FileManager.default.removeItem(at: item.temporary) } }
    for output in outputs {
        let url = URL(fileURLWithPath: output.path)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)")
        do {
            try output.data.write(to: temporary)
        } catch {
            discard()
            throw CommandFailure(.io, "cannot write '\(output.path)': \((error as NSError).localizedDescription)")
        }
        staged.append((temporary, output.path))
    }
    for item in staged {
        guard rename(item.temporary.path, item.path) == 0 else {
            let reason = String(cString: strerror(errno))
            discard()
            throw CommandFailure(.io, "cannot move the finished file into place at '\(item.path)': \(reason)")
        }
    }
}
