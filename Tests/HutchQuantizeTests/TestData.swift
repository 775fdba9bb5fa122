import HutchTensor
import HutchTestSupport

extension SplitMix64 {
    /// Uniform in [0, 1).
    mutating func uniform() -> Double { unit() }

    /// Standard normal (Box-Muller).
    mutating func normal() -> Double {
        let u = max(uniform(), 1e-300), v = uniform()
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }
}

import Foundation

/// A weight with normal entries and per-channel (axis 0) standard deviations that differ.
func randomWeight(_ shape: [Int], seed: UInt64, heavyTails: Bool = false) -> Tensor<Float> {
    var rng = SplitMix64(seed: seed)
    let channels = shape[0]
    let perChannel = shape.dropFirst().reduce(1, *)
    var data: [Float] = []
    for c in 0..<channels {
        let sd = 0.02 * Double(1 + c % 5)
        for _ in 0..<perChannel {
            var x = rng.normal() * sd
            // Occasional outliers make clipping worthwhile.
            if heavyTails, rng.uniform() < 0.01 { x *= 8 }
            data.append(Float(x))
        }
    }
    return Tensor(shape: shape, data: data)
}

/// Row-major transpose of a 2-D tensor.
func transposed(_ t: Tensor<Float>) -> Tensor<Float> {
    let (r, c) = (t.shape[0], t.shape[1])
    var out = [Float](repeating: 0, count: t.count)
    for i in 0..<r { for j in 0..<c { out[j * r + i] = t.data[i * c + j] } }
    return Tensor(shape: [c, r], data: out)
}
