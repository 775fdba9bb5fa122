import HutchTensor
import HutchTestSupport

/// Deterministic pseudo-random numbers for tests.
typealias TestRandom = SplitMix64

extension SplitMix64 {
    /// Uniform in [-1, 1).
    mutating func uniform() -> Double { symmetric() }
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
