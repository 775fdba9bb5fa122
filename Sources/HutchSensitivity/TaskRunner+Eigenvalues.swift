import HutchAutodiff
import HutchModel
import HutchTensor

/// Top Hessian eigenvalue per layer by power iteration on H_ll of the dataset loss (HAWQ-V1).
/// Deterministic: the start vector comes from the probe generator's eigenvalue stream, the
/// dataset product is the example-weighted sum of batch products in batch order, and stopping
/// depends only on computed values.
extension TaskRunner {
    /// H_ll v over the job's examples: sum_b n_b H_b v / N, in batch order.
    public func layerHessianProduct(layer l: Int, _ v: Tensor<Float>) throws -> [Double] {
        let w = layers[l].weight
        var total = [Double](repeating: 0, count: v.count)
        for b in 0..<job.batchCount {
            let (x, y) = batch(b)
            let result = try executor.hessianVectorProducts(input: x, targets: y, wrt: [w], directions: [[w: v]])
            let hv = result.products[0][w]?.data ?? []
            let weight = Double(x.shape[0]) / Double(job.samples)
            for i in 0..<min(hv.count, total.count) { total[i] += weight * Double(hv[i]) }
        }
        return total
    }

    /// The eigenvalue of largest magnitude of H_ll: at most `maxIterations` products, stopping when
    /// the Rayleigh quotient changes by at most `tolerance` relative.
    public func topEigenvalue(layer l: Int, maxIterations: Int = 20, tolerance: Double = 1e-3) throws -> Double {
        let generator = ProbeGenerator(seed: job.seed)
        var v: [Double] = generator.signs(Double.self, stream: .eigenvalue, probe: 0, layer: l,
                                          count: layers[l].parameterCount)
        normalize(&v)
        var lambda = 0.0
        for iteration in 0..<max(1, maxIterations) {
            let hv = try layerHessianProduct(layer: l, Tensor(shape: layers[l].shape, data: v.map { Float($0) }))
            var next = 0.0
            for i in 0..<v.count { next += v[i] * hv[i] }
            let converged = iteration > 0 && abs(next - lambda) <= tolerance * abs(lambda)
            lambda = next
            v = hv
            if converged || !normalize(&v) { break }
        }
        return lambda
    }

    /// Scales v to unit norm; false when v is zero.
    @discardableResult
    private func normalize(_ v: inout [Double]) -> Bool {
        var ss = 0.0
        for x in v { ss += x * x }
        guard ss > 0, ss.isFinite else { return false }
        let inv = 1 / ss.squareRoot()
        for i in v.indices { v[i] *= inv }
        return true
    }
}
