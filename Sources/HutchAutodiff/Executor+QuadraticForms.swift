import Foundation
import HutchModel
import HutchTensor

/// Per-probe, per-layer quadratic forms of the Hessian: what Hutchinson's estimator averages.
public struct QuadraticFormResult<Scalar: TensorScalar>: Sendable {
    public var loss: Scalar
    /// forms[j][w] = v_j,w^T (H v_j)_w: direction j restricted to layer w, times block w of H v_j.
    public var forms: [[ValueID: Double]]
}

extension Executor {
    /// v_j,w^T (H v_j)_w for each direction j and each parameter w that has an entry in any
    /// direction (joint mode: every layer in every direction; layer mode: one layer). Same
    /// result as `hessianVectorProducts` followed by inner products, but convolution, Gemm and
    /// MatMul weights skip their weight-gradient GEMMs (`QuadraticForms`, Executor+ProductForms),
    /// and no gradient is formed.
    ///
    /// The forms are sums over examples, so the batch runs as chunks of `quadraticFormChunk`
    /// examples, each through all its sweeps on one thread (`Kernels.parallelItems`): a chunk's
    /// activations stay in that core's cache, and no kernel waits for another thread. Chunk
    /// results are added in chunk order, so the bits depend on the batch, not on the threads.
    /// The chunks share one copy of the parameters and directions, packed once for the direct
    /// convolutions (`PackedWeightCache`). At most `chunksInFlight` chunks run at once (the
    /// `--memory` bound, `quadraticFormChunkBytes`), each then with more kernel threads: same bits.
    @_specialize(exported: true, where Scalar == Float)
    public func hessianQuadraticForms(input: Tensor<Scalar>, labels: [Int], directions: [[ValueID: Tensor<Scalar>]],
                                      chunksInFlight: Int = .max) throws(ExecutionError) -> QuadraticFormResult<Scalar> {
        try hessianQuadraticForms(input: input, targets: .classes(labels), directions: directions, chunksInFlight: chunksInFlight)
    }

    /// The same for any loss head (`LossTargets`); every chunk divides by the whole batch's normalizer.
    @_specialize(exported: true, where Scalar == Float)
    public func hessianQuadraticForms(input: Tensor<Scalar>, targets: LossTargets, directions: [[ValueID: Tensor<Scalar>]],
                                      chunksInFlight: Int = .max) throws(ExecutionError) -> QuadraticFormResult<Scalar> {
        try hessianQuadraticForms(input: input, targets: targets, directions: stackedDirections(directions), chunksInFlight: chunksInFlight)
    }

    /// The same on directions stacked once (`stackedDirections`) for several batches.
    @_specialize(exported: true, where Scalar == Float)
    public func hessianQuadraticForms(input: Tensor<Scalar>, targets: LossTargets, directions: StackedDirections<Scalar>,
                                      chunksInFlight: Int = .max) throws(ExecutionError) -> QuadraticFormResult<Scalar> {
        let k = directions.count, stacked = directions.values
        let layers = Set(stacked.keys)
        // every chunk convolves the same parameters and directions: packed once for all
        let shared = stackedParameters()
        let packs = PackedWeightCache()
        for value in Array(shared.values) + Array(stacked.values) { packs.register(UnsafePointer(value.pointer), count: value.count) }
        let n = input.rank >= 1 ? input.shape[0] : 0
        let size = Self.quadraticFormChunk
        let chunks = (n + size - 1) / size
        guard chunks > 1 else {
            return try Kernels.withPackedWeights(packs) { () throws(ExecutionError) in
                try quadraticForms(input: input, targets: targets, parameters: shared, directions: stacked, layers: layers,
                                   k: k, normalizer: targets.normalizer)
            }
        }
        guard targets.count == n * targets.perExample else {
            throw ExecutionError("labels: \(targets.count / targets.perExample) labels for a batch of \(n) examples")
        }
        return try formsByExampleChunks(input, k: k, chunksInFlight: chunksInFlight) { (range, x) throws(ExecutionError) in
            try Kernels.withPackedWeights(packs) { () throws(ExecutionError) in
                try quadraticForms(input: x, targets: targets.examples(range), parameters: shared, directions: stacked,
                                   layers: layers, k: k, normalizer: targets.normalizer)
            }
        }
    }

    /// `chunk` on each run of `quadraticFormChunk` examples of `input` (the examples' range and
    /// their rows), at most `chunksInFlight` at once, the results' losses and k forms added in
    /// chunk order: the bits depend on the batch, not on the threads.
    func formsByExampleChunks(_ input: Tensor<Scalar>, k: Int, chunksInFlight: Int,
                              _ chunk: (Range<Int>, Tensor<Scalar>) throws(ExecutionError) -> QuadraticFormResult<Scalar>)
        throws(ExecutionError) -> QuadraticFormResult<Scalar> {
        let n = input.shape[0], size = Self.quadraticFormChunk
        let parts = ItemResults<QuadraticFormResult<Scalar>>((n + size - 1) / size)
        let perExample = input.count / n
        try Kernels.parallelItems((n + size - 1) / size, maxConcurrent: chunksInFlight) { (c) throws(ExecutionError) in
            let range = (c * size)..<min(n, (c + 1) * size)
            let x = Tensor(shape: [range.count] + input.shape.dropFirst(),
                           data: Array(input.data[(range.lowerBound * perExample)..<(range.upperBound * perExample)]))
            parts.set(c, try chunk(range, x))
        }
        let all = parts.values
        var total = all[0]
        for part in all.dropFirst() {
            total.loss += part.loss
            for j in 0..<k {
                for (w, value) in part.forms[j] { total.forms[j][w, default: 0] += value }
            }
        }
        return total
    }

    /// Examples per chunk of `hessianQuadraticForms`; fixed, since the bits depend on it.
    /// ResNet-20 at 1 thread, 4 probes per call, seconds per probe: chunks of 4 examples 0.361,
    /// 8 0.345, 16 0.351, the whole batch of 128 0.359.
    public static var quadraticFormChunk: Int { 8 }

    /// The forms of one chunk of a batch whose mean loss divides by `normalizer`.
    private func quadraticForms(input: Tensor<Scalar>, targets: LossTargets, parameters shared: [ValueID: Stacked<Scalar>],
                                directions stacked: [ValueID: Stacked<Scalar>], layers: Set<ValueID>, k: Int,
                                normalizer: Int) throws(ExecutionError) -> QuadraticFormResult<Scalar> {
        var tape = try forwardTape(input, shared: shared)
        let logits = try outputValue(tape)
        let ce = try makeLoss(output: logits, targets: targets, normalizer: normalizer)
        let quadratic = QuadraticForms<Scalar>(layers: layers, k: k, recomputeUpTo: quadraticTermRecomputeUpTo)
        var need = dependents(of: layers)
        need[graph.output.index] = true
        // the tangent sweep releases the tape values the reverse sweep does not read
        let releasing = releasableTapeValues(tape, need: need, quadratic: quadratic)
        let tangents = try tangentSweep(&tape, stacked, k: k, quadratic: quadratic, releasing: releasing)
        if MemoryRoles<Scalar>.enabled {   // the chunk's peak: everything the reverse sweep reads is live
            MemoryRoles(parameters: Array(shared.values) + Array(stacked.values), tape: tape.values, tangents: tangents,
                        weightTerms: Array(quadratic.weightTerms.values)).report(examples: tape.batch, k: k)
        }
        let tangentSeed = tangents[graph.output.index].map { ce.hessianTimes($0) }
        let (_, tangentAdjoints) = try reverseSweep(tape, need: need, seed: ce.gradient(),
                                                    tangents: tangents, tangentSeed: tangentSeed, k: k, quadratic: quadratic)
        // other layers (embeddings; Gemm and MatMul form theirs in the sweep, Executor+ProductForms):
        // inner products of the full adjoint tangents
        for w in layers {
            guard let adjoint = tangentAdjoints[w.index], let v = stacked[w] else { continue }
            for j in 0..<k { quadratic.forms[w]![j] += Kernels.dot(v.block(j), adjoint.block(j), count: v.blockCount) }
        }
        let forms = (0..<k).map { j in quadratic.forms.mapValues { $0[j] } }
        return QuadraticFormResult(loss: ce.loss, forms: forms)
    }
}

/// Results of the items of `Kernels.parallelItems`, each set once by the thread that ran it.
final class ItemResults<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Value?]
    init(_ count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ value: Value) { lock.lock(); slots[i] = value; lock.unlock() }
    /// Every slot in order; read after all items have run.
    var values: [Value] { lock.lock(); defer { lock.unlock() }; return slots.map { $0! } }
}
