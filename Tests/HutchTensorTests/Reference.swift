import HutchTensor

/// Deterministic pseudo-random numbers for tests (SplitMix64).
struct TestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [-1, 1).
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 52) - 1 }
    mutating func array(_ n: Int) -> [Double] { (0..<n).map { _ in uniform() } }
}

/// Naive convolution straight from the definition (any rank-2 geometry, groups, dilations).
func naiveConv(_ g: ConvGeometry, _ x: [Double], _ w: [Double]) -> [Double] {
    var y = [Double](repeating: 0, count: g.outputCount)
    let cinG = g.inChannelsPerGroup, coutG = g.outChannelsPerGroup
    for n in 0..<g.batch {
        for co in 0..<g.outChannels {
            let grp = co / coutG
            for oy in 0..<g.outHeight {
                for ox in 0..<g.outWidth {
                    var s = 0.0
                    for ci in 0..<cinG {
                        for ki in 0..<g.kernelHeight {
                            for kj in 0..<g.kernelWidth {
                                let iy = oy * g.strideH - g.padTop + ki * g.dilationH
                                let ix = ox * g.strideW - g.padLeft + kj * g.dilationW
                                guard iy >= 0, iy < g.inHeight, ix >= 0, ix < g.inWidth else { continue }
                                let c = grp * cinG + ci
                                s += x[((n * g.inChannels + c) * g.inHeight + iy) * g.inWidth + ix]
                                    * w[((co * cinG + ci) * g.kernelHeight + ki) * g.kernelWidth + kj]
                            }
                        }
                    }
                    y[((n * g.outChannels + co) * g.outHeight + oy) * g.outWidth + ox] = s
                }
            }
        }
    }
    return y
}

func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

func maxRelativeError(_ a: [Double], _ b: [Double]) -> Double {
    let scale = max(1e-12, b.map(abs).max() ?? 0)
    return zip(a, b).map { abs($0 - $1) }.max().map { $0 / scale } ?? 0
}
