/// Namespace of the numeric kernels. They run on raw pointers whose sizes the caller has
/// validated (through `ConvGeometry` and friends); generic over `TensorScalar` and
/// pre-specialized for Float and Double so that generic callers get the fast loops too.
public enum Kernels {}

extension Kernels {
    /// Unfolds one example [C, H, W] into the patch matrix rows [C*kH*kW] x [OH*OW], written at
    /// `col` with row stride `ld` (so several examples can sit side by side).
    public static func im2col<Scalar: TensorScalar>(_ g: ConvGeometry, x: UnsafePointer<Scalar>,
                                                    col: UnsafeMutablePointer<Scalar>, ld: Int) {
        let (ow, sw) = (g.outWidth, g.strideW)
        patchRows(g) { row, oy, input, lo, hi in
            let dst = col + row * ld + oy * ow
            guard let input else { return dst.update(repeating: 0, count: ow) }
            let src = x + input
            if lo > 0 { dst.update(repeating: 0, count: lo) }
            if sw == 1 {
                (dst + lo).update(from: src + lo, count: hi - lo)
            } else {
                var ox = lo
                while ox < hi { dst[ox] = src[ox * sw]; ox += 1 }
            }
            if hi < ow { (dst + hi).update(repeating: 0, count: ow - hi) }
        }
    }

    /// Adds the patch matrix back into one example [C, H, W] (the adjoint of `im2col`).
    public static func col2im<Scalar: TensorScalar>(_ g: ConvGeometry, col: UnsafePointer<Scalar>, ld: Int,
                                                    x: UnsafeMutablePointer<Scalar>) {
        let (ow, sw) = (g.outWidth, g.strideW)
        patchRows(g) { row, oy, input, lo, hi in
            guard let input else { return }
            let src = col + row * ld + oy * ow, dst = x + input
            var ox = lo
            if sw == 1 {
                while ox < hi { dst[ox] += src[ox]; ox += 1 }
            } else {
                while ox < hi { dst[ox * sw] += src[ox]; ox += 1 }
            }
        }
    }

    /// Calls body(row, oy, input, lo, hi) for every patch-matrix row (c, ki, kj) and output row oy
    /// of one example: output columns lo..<hi read input element `input + ox * strideW` (an
    /// offset into the example, nil when the input row lies in the padding).
    @inline(__always)
    static func patchRows(_ g: ConvGeometry, _ body: (_ row: Int, _ oy: Int, _ input: Int?, _ lo: Int, _ hi: Int) -> Void) {
        let (h, w) = (g.inHeight, g.inWidth)
        for c in 0..<g.inChannels {
            for ki in 0..<g.kernelHeight {
                for kj in 0..<g.kernelWidth {
                    let row = (c * g.kernelHeight + ki) * g.kernelWidth + kj
                    let xOff = kj * g.dilationW - g.padLeft
                    let (lo, hi) = validRange(offset: xOff, stride: g.strideW, size: w, count: g.outWidth)
                    for oy in 0..<g.outHeight {
                        let iy = oy * g.strideH - g.padTop + ki * g.dilationH
                        body(row, oy, iy < 0 || iy >= h ? nil : (c * h + iy) * w + xOff, lo, hi)
                    }
                }
            }
        }
    }

    /// Output columns `lo..<hi` whose input column `ox * stride + offset` lies in `0..<size`.
    @inlinable
    static func validRange(offset: Int, stride: Int, size: Int, count: Int) -> (Int, Int) {
        let lo = offset >= 0 ? 0 : min(count, (-offset + stride - 1) / stride)
        let hi = size - offset <= 0 ? 0 : min(count, (size - offset - 1) / stride + 1)
        return (lo, max(lo, hi))
    }

    /// Examples per im2col chunk: enough columns for an efficient GEMM, bounded memory.
    @inlinable
    static func chunkSize(_ g: ConvGeometry, batch: Int) -> Int {
        let spatial = max(1, g.outSpatial)
        let wanted = max(1, (4096 + spatial - 1) / spatial)
        let memoryBound = max(1, (8 << 20) / max(1, g.inChannels * g.kernelHeight * g.kernelWidth * spatial))
        return max(1, min(batch, wanted, memoryBound))
    }
}
