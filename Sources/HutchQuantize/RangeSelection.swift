extension QuantizationGrid {
    /// Squared error ‖dequantize(quantize(v)) - v‖² of one channel, accumulated in Double.
    /// The hot loop of the MSE search: the same arithmetic as `quantize` then `dequantize`, kept
    /// in Float (codes and zero points are integers below 2^24, so q - z is exact) so that it
    /// vectorizes; four partial sums in a fixed order keep it deterministic.
    func squaredError(_ values: [Float], _ parameters: AffineParameters) -> Double {
        if isBinary {
            var sum = 0.0
            for v in values {
                let d = Double(dequantize(quantize(v, parameters), parameters)) - Double(v)
                sum += d * d
            }
            return sum
        }
        let s = parameters.scale, z = Float(parameters.zeroPoint)
        let lo = Float(minCode), hi = Float(maxCode)
        @inline(__always) func error(_ v: Float) -> Double {
            let q = Swift.min(Swift.max((v / s).rounded(.toNearestOrEven) + z, lo), hi)
            let d = Double((q - z) * s) - Double(v)
            return d * d
        }
        return values.withUnsafeBufferPointer { buffer in
            var sums: (Double, Double, Double, Double) = (0, 0, 0, 0)
            let n = buffer.count, body = n - n % 4
            var i = 0
            while i < body {
                sums.0 += error(buffer[i])
                sums.1 += error(buffer[i + 1])
                sums.2 += error(buffer[i + 2])
                sums.3 += error(buffer[i + 3])
                i += 4
            }
            while i < n {
                sums.0 += error(buffer[i])
                i += 1
            }
            return (sums.0 + sums.1) + (sums.2 + sums.3)
        }
    }

    /// The parameters for one channel under a range method.
    func chooseParameters(_ values: [Float], _ stats: ChannelStatistics,
                          _ method: RangeMethod) -> AffineParameters {
        if isBinary { return binaryParameters(meanAbs: stats.meanAbs) }
        switch method {
        case .minMax:
            return parameters(lower: stats.min, upper: stats.max)
        case .mseClipping(let candidates, let lowestRatio):
            // r = 1 first, then downwards; a candidate must be strictly better to win, so
            // ties keep the wider range and the result never loses to min-max.
            var best = parameters(lower: stats.min, upper: stats.max)
            var bestError = squaredError(values, best)
            guard candidates > 1 else { return best }
            for k in stride(from: candidates - 2, through: 0, by: -1) {
                let r = lowestRatio + (1 - lowestRatio) * Double(k) / Double(candidates - 1)
                let p = parameters(lower: Float(r * Double(stats.min)), upper: Float(r * Double(stats.max)))
                if p == best { continue }
                let e = squaredError(values, p)
                if e < bestError { (best, bestError) = (p, e) }
            }
            return best
        }
    }
}

extension RangeMethod {
    func validate() throws(QuantizerError) {
        if case .mseClipping(let candidates, let lowestRatio) = self {
            guard candidates >= 1, lowestRatio > 0, lowestRatio <= 1 else {
                throw .invalidClipSearch(candidates: candidates, lowestRatio: lowestRatio)
            }
        }
    }
}
