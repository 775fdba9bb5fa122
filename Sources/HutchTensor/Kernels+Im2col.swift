/// Namespace of the numeric kernels. They run on raw pointers whose sizes the caller has
/// validated (through `ConvGeometry` and friends); generic over `TensorScalar` and
/// pre-specialized for Float and Double so that generic callers get the fast loops too.
public enum Kernels {}

extension Kernels {
    /// Unfolds one example [C, H, W] into the patch matrix rows [C*kH*kW] x [OH*OW], written at
    /// `col` with row stride `ld` (so several examples can sit side by side).
    public static func im2col<Scalar: TensorScalar>(_ g: ConvGeometry, x: UnsafePointer<Scalar>,
                                                    col: UnsafeMutablePointer<Scalar>, ld: Int) {
        let (h, w, oh, ow) = (g.inHeight, g.inWidth, g.outHeight, g.outWidth)
        let (sh, sw) = (g.strideH, g.strideW)
        for c in 0..<g.inChannels {
            let xc = x + c * h * w
            for ki in 0..<g.kernelHeight {
                for kj in 0..<g.kernelWidth {
                    let row = col + ((c * g.kernelHeight + ki) * g.kernelWidth + kj) * ld
                    let xOff = kj * g.dilationW - g.padLeft
                    let (lo, hi) = validRange(offset: xOff, stride: sw, size: w, count: ow)
                    for oy in 0..<oh {
                        let iy = oy * sh - g.padTop + ki * g.dilationH
                        let dst = row + oy * ow
                        if iy < 0 || iy >= h {
                            dst.update(repeating: 0, count: ow)
                            continue
                        }
                        let src = xc + iy * w + xOff
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
            }
        }
    }

    /// Adds the patch matrix back into one example [C, H, W] (the adjoint of `im2col`).
    public static func col2im<Scalar: TensorScalar>(_ g: ConvGeometry, col: UnsafePointer<Scalar>, ld: Int,
                                                    x: UnsafeMutablePointer<Scalar>) {
        let (h, w, oh, ow) = (g.inHeight, g.inWidth, g.outHeight, g.outWidth)
        let (sh, sw) = (g.strideH, g.strideW)
        for c in 0..<g.inChannels {
            let xc = x + c * h * w
            for ki in 0..<g.kernelHeight {
                for kj in 0..<g.kernelWidth {
                    let row = col + ((c * g.kernelHeight + ki) * g.kernelWidth + kj) * ld
                    let xOff = kj * g.dilationW - g.padLeft
                    let (lo, hi) = validRange(offset: xOff, stride: sw, size: w, count: ow)
                    for oy in 0..<oh {
                        let iy = oy * sh - g.padTop + ki * g.dilationH
                        if iy < 0 || iy >= h { continue }
                        let src = row + oy * ow
                        let dst = xc + iy * w + xOff
                        var ox = lo
                        if sw == 1 {
                            while ox < hi { dst[ox] += src[ox]; ox += 1 }
                        } else {
                            while ox < hi { dst[ox * sw] += src[ox]; ox += 1 }
                        }
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
