import Foundation
import HutchClusterCore
import HutchModel

extension ModelSource {
    /// Reads a model or data file of a cluster job (the coordinator's inputs, a worker's shared
    /// path); a failure is the model layer's unreadable file.
    public static func readFile(_ path: String, what: String) throws -> [UInt8] {
        do {
            return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw ModelError.unreadableFile(path: path, reason: "cannot read the \(what) file: \((error as NSError).localizedDescription)")
        }
    }

    /// Opens a data file of a cluster job to be read a chunk at a time (`readFile` reports why
    /// one that is no regular file cannot be read, or reads it whole).
    public static func openFile(_ path: String, what: String) throws -> any ByteSource {
        try FileByteSource.open(path) { try readFile($0, what: what) }
    }

    /// A model file of a cluster job mapped into memory (`ONNXLoader.map`): the coordinator's
    /// model, a worker's shared path or fetched blob; one that cannot be mapped is read by
    /// `readFile`, with its error.
    public static func mapFile(_ path: String, what: String) throws -> ByteStorage {
        try ONNXLoader.map(path) { try readFile($0, what: what) }
    }
}
