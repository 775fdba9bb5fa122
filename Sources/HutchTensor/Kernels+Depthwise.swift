/// Direct loops for depthwise convolutions (one input channel per group), where im2col + GEMM
/// would issue one tiny GEMM per channel. Same block conventions as `Kernels+Conv.swift`.
extension Kernels {
    @inlinable
    static func isDepthwise(_ g: ConvGeometry) -> Bool { g.group > 1 && g.inChannelsPerGroup == 1 }

    /// Calls body(b, weight, out, in, lo, hi) for every block, example, output channel, kernel tap
    /// and output row, in that order: output columns lo..<hi of the row at offset `out` (into a
    /// block's output) read the input row at offset `in` (into a block's input) with weight
    /// element `weight` (into a block's weights), column ox reading `in + ox * strideW`.
    @inline(__always)
    static func depthwiseRows(_ g: ConvGeometry, blocks: Int,
                              _ body: (_ b: Int, _ weight: Int, _ out: Int, _ in: Int, _ lo: Int, _ hi: Int) -> Void) {
        let (coutG, taps) = (g.outChannelsPerGroup, g.kernelHeight * g.kernelWidth)
        for b in 0..<blocks {
            for n in 0..<g.batch {
                for co in 0..<g.outChannels {
                    let outPlane = (n * g.outChannels + co) * g.outSpatial, inPlane = (n * g.inChannels + co / coutG) * g.inSpatial
                    for ki in 0..<g.kernelHeight {
                        for kj in 0..<g.kernelWidth {
                            let xOff = kj * g.dilationW - g.padLeft
                            let (lo, hi) = validRange(offset: xOff, stride: g.strideW, size: g.inWidth, count: g.outWidth)
                            if lo >= hi { continue }
                            for oy in 0..<g.outHeight {
                                let iy = oy * g.strideH - g.padTop + ki * g.dilationH
                                if iy < 0 || iy >= g.inHeight { continue }
                                body(b, co * taps + ki * g.kernelWidth + kj, outPlane + oy * g.outWidth,
                                     inPlane + iy * g.inWidth + xOff, lo, hi)
                            }
                        }
                    }
                }
            }
        }
    }

    /// y[b] (+)= conv(x[b], w[b]), or with `transposed` the adjoint in x, dx[b] (+)= conv_transpose(dy[b],
    /// w[b]) (`input` is then dy and `output` dx): on the vector kernels where the table allows
    /// (Kernels+DepthwiseVector), else `depthwiseLoops`.
    @_specialize(exported: true, where Scalar == Float) @_specialize(exported: true, where Scalar == Double)
    static func depthwise<Scalar: TensorScalar>(
        _ g: ConvGeometry, transposed: Bool, blocks: Int, input: UnsafePointer<Scalar>, inputBlockStride: Int,
        w: UnsafePointer<Scalar>, wBlockStride: Int, output: UnsafeMutablePointer<Scalar>, accumulate: Bool
    ) {
        if Scalar.self == Float.self && depthwiseVectorApplies(g) {
            return depthwiseVector(g, transposed: transposed, blocks: blocks, input: floats(input), inputBlockStride: inputBlockStride,
                                   w: floats(w), wBlockStride: wBlockStride, output: floats(output), accumulate: accumulate)
        }
        depthwiseLoops(g, transposed: transposed, blocks: blocks, input: input, inputBlockStride: inputBlockStride, w: w,
                       wBlockStride: wBlockStride, output: output, accumulate: accumulate)
    }

    /// `depthwise` by scalar loops, one pass over an output row per kernel tap: any geometry and
    /// scalar, the strided side always the image.
    @_specialize(exported: true, where Scalar == Float) @_specialize(exported: true, where Scalar == Double)
    static func depthwiseLoops<Scalar: TensorScalar>(
        _ g: ConvGeometry, transposed: Bool, blocks: Int, input: UnsafePointer<Scalar>, inputBlockStride: Int,
        w: UnsafePointer<Scalar>, wBlockStride: Int, output: UnsafeMutablePointer<Scalar>, accumulate: Bool
    ) {
        let outBlock = transposed ? g.inputCount : g.outputCount
        if !accumulate { output.update(repeating: 0, count: blocks * outBlock) }
        let sw = g.strideW
        depthwiseRows(g, blocks: blocks) { b, k, o, i, lo, hi in
            let wv = w[b * wBlockStride + k]
            let src = input + b * inputBlockStride + (transposed ? o : i), dst = output + b * outBlock + (transposed ? i : o)
            if sw == 1 { for ox in lo..<hi { dst[ox] += wv * src[ox] } }
            else if transposed { for ox in lo..<hi { dst[ox * sw] += wv * src[ox] } }
            else { for ox in lo..<hi { dst[ox] += wv * src[ox * sw] } }
        }
    }

    @_specialize(exported: true, where Scalar == Float) @_specialize(exported: true, where Scalar == Double)
    public static func depthwiseBackwardWeight<Scalar: TensorScalar>(
        _ g: ConvGeometry, blocks: Int, x: UnsafePointer<Scalar>, xBlockStride: Int,
        dy: UnsafePointer<Scalar>, dyBlockStride: Int, dw: UnsafeMutablePointer<Scalar>, accumulate: Bool
    ) {
        if !accumulate { dw.update(repeating: 0, count: blocks * g.weightCount) }
        let sw = g.strideW
        depthwiseRows(g, blocks: blocks) { b, k, o, i, lo, hi in
            let src = dy + b * dyBlockStride + o, xs = x + b * xBlockStride + i
            var s: Scalar = 0
            if sw == 1 { for ox in lo..<hi { s += src[ox] * xs[ox] } }
            else { for ox in lo..<hi { s += src[ox] * xs[ox * sw] } }
            dw[b * g.weightCount + k] += s
        }
    }
}
