import HutchTensor
import HutchTestSupport
import XCTest

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

/// dx of `conv2DBackwardData` in Float on the table's path against the naive loop's adjoint, at
/// every `step`-th input, within `relative` of dx's largest magnitude.
func assertDataGradientIsTheAdjoint(_ g: ConvGeometry, w: [Double], dy: [Double], step: Int, relative: Double,
                                    file: StaticString = #filePath, line: UInt = #line) {
    var dx = [Float](repeating: 0, count: g.inputCount)
    Kernels.conv2DBackwardData(g, blocks: 1, dy: dy.map(Float.init), dyBlockStride: 0, w: w.map(Float.init),
                               wBlockStride: 0, dx: &dx, accumulate: false)
    let scale = dx.map { abs(Double($0)) }.max() ?? 1
    for i in stride(from: 0, to: g.inputCount, by: step) {
        var e = [Double](repeating: 0, count: g.inputCount); e[i] = 1
        XCTAssertEqual(Double(dx[i]), dot(naiveConv(g, e, w), dy), accuracy: relative * scale, "input \(i)", file: file, line: line)
    }
}
