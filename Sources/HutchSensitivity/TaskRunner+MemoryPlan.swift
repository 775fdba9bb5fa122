import Foundation
import HutchAutodiff
import HutchModel
import HutchTensor

extension TaskRunner {
    /// Hutchinson's probes per call, chunks in flight and pool limit under `memoryBytes` (without
    /// it: the asked probes per call, one chunk per thread, no limit). Throws when not even one
    /// chunk at one probe per call fits.
    public func hutchinsonPlan() throws -> HutchinsonChunkPlan {
        try plan(what: "Hutchinson") { k in executor.quadraticFormChunkBytes(batch: job.largestBatch, k: k) }
    }

    /// The same for Hutchinson on the activations `values` (`--activations`).
    public func activationPlan(_ values: [ValueID]) throws -> HutchinsonChunkPlan {
        try plan(what: "activation Hutchinson") { k in executor.activationFormChunkBytes(batch: job.largestBatch, k: k, values: values) }
    }

    /// A plan with `chunkBytes(k)` a chunk's bound at k probes per call.
    private func plan(what: String, chunkBytes chunk: (Int) -> Int) throws -> HutchinsonChunkPlan {
        let floats = MemoryLayout<Float>.stride
        let parameterBytes = executor.parameters.values.reduce(0) { $0 + $1.count } * floats
        // only convolution weights are packed for the direct kernels
        let convWeights = Set(executor.graph.nodes.compactMap { node -> ValueID? in
            guard case .conv = node.op, node.inputs.count > 1 else { return nil }
            return node.inputs[1]
        })
        let packed = { (w: ValueID) in executor.parameters[w].map { Kernels.largestPackedFloats(weightShape: $0.shape) } ?? 0 }
        let packedParameterBytes = convWeights.reduce(0) { $0 + packed($1) } * floats
        // one direction per weight, however many layers read it
        let carried = zip(layers, carriesWeight).filter(\.1).map(\.0)
        let directionBytes = carried.reduce(0) { $0 + $1.parameterCount } * floats
        let packedDirectionBytes = carried.filter { convWeights.contains($0.weight) }.reduce(0) { $0 + packed($1.weight) } * floats
        let dataBytes = dataset.inputs.count * floats
        let fixed = { (k: Int) in
            MemoryBudget.hutchinsonFixedBytes(dataBytes: dataBytes, parameterBytes: parameterBytes, packedParameterBytes: packedParameterBytes,
                                              directionBytes: directionBytes, packedDirectionBytes: packedDirectionBytes, k: k)
        }
        let unpooled = { (_: Int) in MemoryBudget.hutchinsonUnpooledBytes(dataBytes: dataBytes, parameterBytes: parameterBytes) }
        guard let memory = memoryBytes else {
            return .unbounded(batch: job.largestBatch, probesPerCall: probesPerCall, threads: Kernels.threads,
                              fixedBytes: fixed(probesPerCall), chunkBytes: chunk(probesPerCall))
        }
        guard let plan = HutchinsonChunkPlan.choose(memory: memory, batch: job.largestBatch, probesPerCall: probesPerCall, threads: Kernels.threads,
                                                    fixedBytes: fixed, chunkBytes: chunk, unpooledBytes: unpooled) else {
            let need = Double(fixed(1) + chunk(1)) / 1e9
            throw SensitivityError(.memory, String(format: "--memory %.3g GB is too small for ", Double(memory) / 1e9) + what
                                   + String(format: ": one chunk of %d example(s) at 1 probe per call needs %.3g GB (Protocols/README.md, "
                                            + "\"Memory\"); raise --memory to at least that", HutchinsonChunkPlan.chunkExamples(job.largestBatch), need))
        }
        return plan
    }
}
