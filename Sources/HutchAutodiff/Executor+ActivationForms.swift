import HutchModel
import HutchTensor

/// What a reverse sweep keeps of the values it passes: the adjoints and the tangent adjoints
/// (H v restricted to each value) of `values`, taken just before the sweep frees them.
final class Captured<Scalar: TensorScalar> {
    let values: Set<ValueID>
    var adjoints: [ValueID: Stacked<Scalar>?] = [:]
    var tangentAdjoints: [ValueID: Stacked<Scalar>?] = [:]
    init(_ values: Set<ValueID>) { self.values = values }
}

extension Executor {
    /// HAWQ-V2's activation sensitivity: v_j,a^T (H v_j)_a for Rademacher directions v_j on the
    /// activations `values` (each perturbed after its producer, all at once, so cross terms have
    /// mean zero), where H is the Hessian of the mean cross-entropy over `examples` examples with
    /// respect to the activations. Its mean over probes estimates Tr(d^2 L / d a^2), which is the
    /// mean over examples of each example's own trace (examples do not interact).
    /// `seeds[j]` makes direction j; its entries depend on the seed, the value and the entry's
    /// position in the batch only, so a batch gives the same directions however it is cut.
    /// `input` holds examples firstExample..< of a batch of `examples` (default: all of it).
    ///
    /// The examples run as chunks of `quadraticFormChunk`, at most `chunksInFlight` at once, and
    /// the chunks' forms are added in chunk order: memory follows the chunk, not the batch (a
    /// whole-batch call held every example's activations and their k tangents), and the bits
    /// depend on the batch, not on the threads.
    @_specialize(exported: true, where Scalar == Float)
    public func activationQuadraticForms(input: Tensor<Scalar>, labels: [Int], values: [ValueID], seeds: [UInt64],
                                         firstExample: Int = 0, examples: Int? = nil,
                                         chunksInFlight: Int = .max) throws(ExecutionError) -> QuadraticFormResult<Scalar> {
        guard !seeds.isEmpty else { throw ExecutionError("activation quadratic forms: no probes") }
        let n = input.rank >= 1 ? input.shape[0] : 0
        guard labels.count == n else { throw ExecutionError("labels: \(labels.count) labels for a batch of \(n) examples") }
        guard n > Self.quadraticFormChunk else {
            return try activationChunkForms(input: input, labels: labels, values: values, seeds: seeds,
                                            firstExample: firstExample, examples: examples ?? n)
        }
        return try formsByExampleChunks(input, k: seeds.count, chunksInFlight: chunksInFlight) { (range, x) throws(ExecutionError) in
            try activationChunkForms(input: x, labels: Array(labels[range]), values: values, seeds: seeds,
                                     firstExample: firstExample + range.lowerBound, examples: examples ?? n)
        }
    }

    /// The forms of one chunk: examples firstExample..< of a batch of `examples`.
    private func activationChunkForms(input: Tensor<Scalar>, labels: [Int], values: [ValueID], seeds: [UInt64],
                                      firstExample: Int, examples: Int) throws(ExecutionError) -> QuadraticFormResult<Scalar> {
        let k = seeds.count
        var tape = try forwardTape(input)
        let logits = try outputValue(tape)
        guard logits.shape.count == 2 else {
            throw ExecutionError("activation sensitivity is for classification logits [N, C]; the output has shape \(logits.shape)")
        }
        let ce = try SoftmaxCrossEntropy(logits: logits, labels: labels, normalizer: examples)
        var directions = [ValueID: Stacked<Scalar>]()
        for id in values {
            guard id.index < graph.values.count, let value = tape.values[id.index] else {
                throw ExecutionError("activation quadratic forms: '\(name(id))' is not computed by the model")
            }
            let d = Stacked<Scalar>(shape: value.shape, blocks: k, zeroed: false)
            let perExample = value.blockCount / max(tape.batch, 1)
            for (j, seed) in seeds.enumerated() {
                for e in 0..<value.blockCount {
                    let position = UInt64(firstExample) &* UInt64(perExample) &+ UInt64(e)
                    d.block(j)[e] = Self.rademacher(seed, UInt64(id.index), position)
                }
            }
            directions[id] = d
        }
        var need = dependents(of: Set(values))
        need[graph.output.index] = true
        let releasing = releasableTapeValues(tape, need: need)
        let tangents = try tangentSweep(&tape, directions, k: k, releasing: releasing)
        let captured = Captured<Scalar>(Set(values))
        let tangentSeed = tangents[graph.output.index].map { ce.hessianTimes($0) }
        let (_, tangentAdjoints) = try reverseSweep(tape, need: need, seed: ce.gradient(labels: labels), tangents: tangents,
                                                    tangentSeed: tangentSeed, k: k, capturing: captured)
        var forms = Array(repeating: [ValueID: Double](), count: k)
        for id in values {
            let adjoint = captured.tangentAdjoints[id] ?? tangentAdjoints[id.index]
            for j in 0..<k {
                guard let adjoint, let d = directions[id] else { forms[j][id] = 0; continue }
                forms[j][id] = Kernels.dot(d.block(j), adjoint.block(j), count: d.blockCount)
            }
        }
        return QuadraticFormResult(loss: ce.loss, forms: forms)
    }

    /// ±1 from a counter-based hash (SplitMix64's finalizer) of the seed, the value and the position.
    static func rademacher(_ seed: UInt64, _ value: UInt64, _ position: UInt64) -> Scalar {
        var z = seed &+ value &* 0x9E37_79B9_7F4A_7C15 &+ position &* 0xD1B5_4A32_D192_ED03
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return z & 1 == 0 ? 1 : -1
    }
}
