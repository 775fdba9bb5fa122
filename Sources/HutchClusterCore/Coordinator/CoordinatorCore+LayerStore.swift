import HutchModel
import HutchQuantize
import HutchWire

/// Accepted quantized layers live in `layerStore` by the SHA-256 of their packed body, not in
/// memory: the coordinator holds one layer at a time (the one being accepted, then the one the
/// export writes), whatever the model's size. The journal records them by that digest (the
/// RESULT with the digest as its one blob and an empty body, as a pulled one arrives), so a
/// resume reads them back from the store; one missing or damaged there is computed again.
extension CoordinatorCore {
    /// Keeps an accepted layer's body; false (and the job failed) when the store cannot.
    mutating func keepLayer(_ q: QuantizedLayer, body: [UInt8], _ out: inout [CoordinatorAction]) -> Bool {
        guard let digest = WireDigest(Digest.sha256(body)) else { return false }
        do {
            if storedLayer(digest) == nil { try layerStore.put(digest, body) }
        } catch {
            finish(.failed("cannot keep the quantized layer '\(q.node)': \(error)"), &out)
            return false
        }
        quantizedDigests[q.index] = digest
        return true
    }

    /// Every layer is in: their digests in canonical order.
    mutating func finishQuantize(_ out: inout [CoordinatorAction]) {
        let count = quantizeGraph?.quantizableLayers.count ?? 0
        let digests = (0..<count).compactMap { quantizedDigests[$0] }
        guard digests.count == count, quantizedDigests.count == count else {
            finish(.failed("the quantize phase ended with \(quantizedDigests.count) of \(count) layers"), &out)
            return
        }
        finish(.quantized(digests), &out)
    }

    /// The stored body under `digest`, when it is there and its bytes still match the digest.
    func storedLayer(_ digest: WireDigest) -> [UInt8]? {
        guard let bytes = layerStore.bytes(digest), WireDigest(Digest.sha256(bytes)) == digest else { return nil }
        return bytes
    }

    /// What the journal keeps of an accepted result: a quantize result by its body's digest.
    func journaled(_ r: WireTaskResult) -> WireTaskResult {
        guard r.kind == .quantize, !r.body.isEmpty, case .quantize(let layer)? = tasks[r.taskID]?.task,
              let digest = quantizedDigests[layer] else { return r }
        var record = r
        (record.body, record.blobs) = ([], [digest])
        return record
    }

    /// A journal record of a quantize result by digest whose layer is not in the store (lost with
    /// a crash before it reached the disk, or damaged): the task stays open and runs again. A
    /// second record of a task (the run that redid it) is passed over once the first counted,
    /// also after the job's end (it was redone after a job-complete record).
    func unstoredReplay(_ r: WireTaskResult) -> [CoordinatorAction]? {
        guard Self.isPulled(r), let state = tasks[r.taskID], case .quantize = state.task else { return nil }
        if state.done { return [] }
        guard storedLayer(r.blobs[0]) == nil else { return nil }
        return [.log("the quantized layer of task \(r.taskID) (\(r.blobs[0])) is missing or damaged in the state directory; the task runs again")]
    }

    /// Layer `index` of a `.quantized` outcome, read back from the store and checked.
    public func quantizedLayer(_ index: Int, digest: WireDigest) throws -> QuantizedLayer {
        guard let graph = quantizeGraph, let body = storedLayer(digest) else {
            throw BodyError("the quantized layer \(index) (\(digest)) is not in the layer store")
        }
        return try QuantizeBodies.decodeResult(body, layer: index, graph: graph)
    }
}
