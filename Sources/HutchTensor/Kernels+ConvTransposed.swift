import Foundation

/// The data gradient of a stride-1 convolution as a forward convolution: dx = conv(dy, W')
/// with W'[ci, co, i, j] = W[co, ci, kH-1-i, kW-1-j] and pads k-1-p. Its im2col + GEMM has the
/// forward's efficient shape (C_in rows by C_out*kH*kW), where the transposed GEMM + col2im
/// spent most of its time in the scatter-add of col2im.
extension ConvGeometry {
    /// The geometry of conv(dy, W') when this convolution has stride 1, dilation 1, one group
    /// and pads below the kernel size; nil otherwise.
    public var strideOneTranspose: ConvGeometry? {
        guard strideH == 1, strideW == 1, dilationH == 1, dilationW == 1, group == 1,
              padTop < kernelHeight, padBottom < kernelHeight, padLeft < kernelWidth, padRight < kernelWidth
        else { return nil }
        var t = self
        (t.inChannels, t.outChannels) = (outChannels, inChannels)
        (t.inHeight, t.inWidth, t.outHeight, t.outWidth) = (outHeight, outWidth, inHeight, inWidth)
        (t.padTop, t.padBottom) = (kernelHeight - 1 - padTop, kernelHeight - 1 - padBottom)
        (t.padLeft, t.padRight) = (kernelWidth - 1 - padLeft, kernelWidth - 1 - padRight)
        return t
    }
}

extension Kernels {
    /// w' of `strideOneTranspose` for `blocks` weight blocks: [C_in, C_out, kH, kW], flipped.
    static func flippedTransposedWeights<Scalar: TensorScalar>(_ g: ConvGeometry, blocks: Int, w: UnsafePointer<Scalar>,
                                                               into out: UnsafeMutablePointer<Scalar>) {
        let (cin, cout, kh, kw) = (g.inChannels, g.outChannels, g.kernelHeight, g.kernelWidth)
        for b in 0..<blocks {
            let src = w + b * g.weightCount, dst = out + b * g.weightCount
            for co in 0..<cout {
                for ci in 0..<cin {
                    for i in 0..<kh {
                        for j in 0..<kw {
                            dst[((ci * cout + co) * kh + kh - 1 - i) * kw + kw - 1 - j] = src[((co * cin + ci) * kh + i) * kw + j]
                        }
                    }
                }
            }
        }
    }
}
