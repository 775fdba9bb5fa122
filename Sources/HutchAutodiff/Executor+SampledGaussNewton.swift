import HutchModel
import HutchTensor

/// The per-example norms behind the sampled Gauss-Newton estimator (Protocols/README.md,
/// "Sampled GGN"): one reverse pass per sample instead of exact mode's C - 1 seeds.
extension Executor {
    /// For every sample s and example n, ||d(u_{s,n}^T A_n f_n)/dW||^2 for each weight W in
    /// `layers`, where A_n is exact mode's logit-Hessian factor and `signs(s, n, C)` gives u (C
    /// entries, Rademacher for the estimator; unit vectors give exact mode's terms): result[W] has
    /// shape [S, N]. One forward pass; each sample's norms are bit-identical whatever other
    /// samples share the call, so tasks may cut samples anywhere.
    @_specialize(exported: true, where Scalar == Float)
    public func sampledGaussNewtonNorms(input: Tensor<Scalar>, layers: [ValueID], samples: Int, maxStackedExamples: Int? = nil,
                                        signs: (_ sample: Int, _ example: Int, _ classes: Int) -> [Scalar]) throws(ExecutionError) -> [ValueID: Tensor<Scalar>] {
        guard samples >= 1 else { throw ExecutionError("sampled Gauss-Newton norms: \(samples) samples; at least 1 is needed") }
        let tape = try forwardTape(input)
        let logits = try outputValue(tape)
        let ce = SoftmaxCrossEntropy(logits: logits)
        var u = [[Scalar]]()
        for s in 0..<samples {
            for i in 0..<ce.batch {
                let v = signs(s, i, ce.classes)
                guard v.count == ce.classes else {
                    throw ExecutionError("sampled Gauss-Newton norms: sample \(s) of example \(i) has \(v.count) signs for \(ce.classes) classes")
                }
                u.append(v)
            }
        }
        let seeds = ce.gaussNewtonSeeds(samples: samples) { s, i in u[s * ce.batch + i] }
        return try seeds.withUnsafeBufferPointer { (s) throws(ExecutionError) in
            try perExampleNorms(tape, seeds: s.baseAddress!, count: samples, layers: layers,
                                maxStackedExamples: maxStackedExamples ?? exactStackedExamples(), independentSeeds: true)
        }
    }
}
