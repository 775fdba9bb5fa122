import Foundation

/// Reads a whole input file; `what` names it in the error ("sensitivity file", "latency table").
public func readFile(_ path: String, what: String) throws -> Data {
    do {
        return try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
        throw CommandFailure(.io, "cannot read \(what) '\(path)': \((error as NSError).localizedDescription)")
    }
}

/// Writes an output file atomically (Foundation writes a temporary file and renames it over
/// the destination), so that readers never see a half-written file. A device or pipe
/// (`--out /dev/null`) is written in place instead.
public func writeAtomically(_ data: Data, to path: String) throws {
    if isSpecialFile(path) { return try writeInPlace(StagedOutput(path: path, data: data)) }
    do {
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
        throw CommandFailure(.io, "cannot write '\(path)': \((error as NSError).localizedDescription)")
    }
}
