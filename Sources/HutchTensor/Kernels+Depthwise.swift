/// Direct loops for depthwise convolutions (one input channel per group), where im2col + GEMM
/// would issue one tiny GEMM per channel. Same block conventions as `Kernels+Conv.swift`.
extension Kernels {
    @inlinable
    static func isDepthwise(_ g: ConvGeometry) -> Bool { g.group > 1 && g.inChannelsPerGroup == 1 }

    /// Calls body(outRow, inRow, weightIndex, count...) for every (output channel, kernel tap,
    /// output row) with the valid column range, for one example.
    @inlinable
    static func depthwiseTaps(_ g: ConvGeometry,
                              _ body: (_ co: Int, _ ci: Int, _ tap: Int, _ outOffset: Int, _ inOffset: Int, _ lo: Int, _ hi: Int) -> Void) {
        let coutG = g.outChannelsPerGroup
        for co in 0..<g.outChannels {
            let ci = co / coutG
            for ki in 0..<g.kernelHeight {
                for kj in 0..<g.kernelWidth {
                    let xOff = kj * g.dilationW - g.padLeft
                    let (lo, hi) = validRange(offset: xOff, stride: g.strideW, size: g.inWidth, count: g.outWidth)
                    if lo >= hi { continue }
                    for oy in 0..<g.outHeight {
                        let iy = oy * g.strideH - g.padTop + ki * g.dilationH
                        if iy < 0 || iy >= g.inHeight { continue }
                        body(co, ci, ki * g.kernelWidth + kj, oy * g.outWidth, iy * g.inWidth + xOff, lo, hi)
                    }
                }
            }
        }
    }

    @_specialize(exported: true, where Scalar == Float) @_specialize(exported: true, where Scalar == Double)
    public static func depthwiseForward<Scalar: TensorScalar>(
        _ g: ConvGeometry, blocks: Int, x: UnsafePointer<Scalar>, xBlockStride: Int,
        w: UnsafePointer<Scalar>, wBlockStride: Int, y: UnsafeMutablePointer<Scalar>, accumulate: Bool
    ) {
        if !accumulate { y.update(repeating: 0, count: blocks * g.outputCount) }
        let (taps, sw) = (g.kernelHeight * g.kernelWidth, g.strideW)
        for b in 0..<blocks {
            let wb = w + b * wBlockStride
            for n in 0..<g.batch {
                let xn = x + b * xBlockStride + n * g.inChannels * g.inSpatial
                let yn = y + b * g.outputCount + n * g.outChannels * g.outSpatial
                depthwiseTaps(g) { co, ci, tap, o, i, lo, hi in
                    let wv = wb[co * taps + tap]
                    let dst = yn + co * g.outSpatial + o, src = xn + ci * g.inSpatial + i
                    if sw == 1 { for ox in lo..<hi { dst[ox] += wv * src[ox] } }
                    else { for ox in lo..<hi { dst[ox] += wv * src[ox * sw] } }
                }
            }
        }
    }

    @_specialize(exported: true, where Scalar == Float) @_specialize(exported: true, where Scalar == Double)
    public static func depthwiseBackwardData<Scalar: TensorScalar>(
        _ g: ConvGeometry, blocks: Int, dy: UnsafePointer<Scalar>, dyBlockStride: Int,
        w: UnsafePointer<Scalar>, wBlockStride: Int, dx: UnsafeMutablePointer<Scalar>, accumulate: Bool
    ) {
        if !accumulate { dx.update(repeating: 0, count: blocks * g.inputCount) }
        let (taps, sw) = (g.kernelHeight * g.kernelWidth, g.strideW)
        for b in 0..<blocks {
            let wb = w + b * wBlockStride
            for n in 0..<g.batch {
                let gn = dy + b * dyBlockStride + n * g.outChannels * g.outSpatial
                let xn = dx + b * g.inputCount + n * g.inChannels * g.inSpatial
                depthwiseTaps(g) { co, ci, tap, o, i, lo, hi in
                    let wv = wb[co * taps + tap]
                    let src = gn + co * g.outSpatial + o, dst = xn + ci * g.inSpatial + i
                    if sw == 1 { for ox in lo..<hi { dst[ox] += wv * src[ox] } }
                    else { for ox in lo..<hi { dst[ox * sw] += wv * src[ox] } }
                }
            }
        }
    }

    @_specialize(exported: true, where Scalar == Float) @_specialize(exported: true, where Scalar == Double)
    public static func depthwiseBackwardWeight<Scalar: TensorScalar>(
        _ g: ConvGeometry, blocks: Int, x: UnsafePointer<Scalar>, xBlockStride: Int,
        dy: UnsafePointer<Scalar>, dyBlockStride: Int, dw: UnsafeMutablePointer<Scalar>, accumulate: Bool
    ) {
        if !accumulate { dw.update(repeating: 0, count: blocks * g.weightCount) }
        let (taps, sw) = (g.kernelHeight * g.kernelWidth, g.strideW)
        for b in 0..<blocks {
            let dwb = dw + b * g.weightCount
            for n in 0..<g.batch {
                let xn = x + b * xBlockStride + n * g.inChannels * g.inSpatial
                let gn = dy + b * dyBlockStride + n * g.outChannels * g.outSpatial
                depthwiseTaps(g) { co, ci, tap, o, i, lo, hi in
                    let src = gn + co * g.outSpatial + o, xs = xn + ci * g.inSpatial + i
                    var s: Scalar = 0
                    if sw == 1 { for ox in lo..<hi { s += src[ox] * xs[ox] } }
                    else { for ox in lo..<hi { s += src[ox] * xs[ox * sw] } }
                    dwb[co * taps + tap] += s
                }
            }
        }
    }
}
