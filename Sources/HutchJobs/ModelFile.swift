import HutchModel

/// A model input file mapped into memory rather than read (`ONNXLoader.map`); one that cannot be
/// mapped is read by `readFile`, so a missing model fails with the same one line as before.
func mapModel(_ path: String) throws -> ByteStorage {
    try ONNXLoader.map(path) { [UInt8](try readFile($0, what: "model")) }
}

/// The model's graph and digest; the mapping is released when both are made.
func loadModel(_ path: String) throws -> (graph: Graph, digest: String) {
    let storage = try mapModel(path)
    let digest = Digest.sha256(storage)
    return (try ONNXLoader.load(storage: storage, source: path), digest)
}
