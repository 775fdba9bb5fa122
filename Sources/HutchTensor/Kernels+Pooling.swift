/// Max and average pooling on NCHW planes. `planes` is the number of [H, W] planes to process
/// (batch * channels, times the number of stacked blocks); max pooling's argmax of the primal
/// input (one block of `g.batch * g.inChannels` planes) serves every stacked block.
extension Kernels {
    /// y = maxpool(x); argmax[p, o] = flat index into the input plane, or -1 for an empty window.
    @_specialize(exported: true, where Scalar == Float) @_specialize(exported: true, where Scalar == Double)
    public static func maxPoolForward<Scalar: TensorScalar>(_ g: ConvGeometry, x: UnsafePointer<Scalar>,
                                                            y: UnsafeMutablePointer<Scalar>,
                                                            argmax: UnsafeMutablePointer<Int32>) {
        let (h, w, oh, ow) = (g.inHeight, g.inWidth, g.outHeight, g.outWidth)
        for p in 0..<(g.batch * g.inChannels) {
            let xp = x + p * h * w, yp = y + p * oh * ow, ap = argmax + p * oh * ow
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var best = -Scalar.infinity, bestIndex: Int32 = -1
                    for ki in 0..<g.kernelHeight {
                        let iy = oy * g.strideH - g.padTop + ki * g.dilationH
                        if iy < 0 || iy >= h { continue }
                        for kj in 0..<g.kernelWidth {
                            let ix = ox * g.strideW - g.padLeft + kj * g.dilationW
                            if ix < 0 || ix >= w { continue }
                            let v = xp[iy * w + ix]
                            // NaN propagates as in PyTorch
                            if v > best || bestIndex < 0 || v.isNaN { best = v; bestIndex = Int32(iy * w + ix) }
                        }
                    }
                    yp[oy * ow + ox] = bestIndex < 0 ? 0 : best
                    ap[oy * ow + ox] = bestIndex
                }
            }
        }
    }

    /// dst[p, o] = src[p, argmax[p mod P, o]] for `planes` planes (tangent of max pooling).
    @_specialize(exported: true, where Scalar == Float) @_specialize(exported: true, where Scalar == Double)
    public static func maxPoolGather<Scalar: TensorScalar>(_ g: ConvGeometry, planes: Int, argmax: UnsafePointer<Int32>,
                                                           src: UnsafePointer<Scalar>, dst: UnsafeMutablePointer<Scalar>) {
        maxPoolPairs(g, planes: planes, argmax: argmax) { input, output in dst[output] = input.map { src[$0] } ?? 0 }
    }

    /// dx[p, argmax[p mod P, o]] += dy[p, o] (adjoint of `maxPoolGather`); dx is not cleared.
    @_specialize(exported: true, where Scalar == Float) @_specialize(exported: true, where Scalar == Double)
    public static func maxPoolScatter<Scalar: TensorScalar>(_ g: ConvGeometry, planes: Int, argmax: UnsafePointer<Int32>,
                                                            dy: UnsafePointer<Scalar>, dx: UnsafeMutablePointer<Scalar>) {
        maxPoolPairs(g, planes: planes, argmax: argmax) { input, output in
            if let input { dx[input] += dy[output] }
        }
    }

    /// Calls body(input, output) for every output element of `planes` planes, in order: `output`
    /// its offset among all planes' outputs, `input` that of its window's maximum among all
    /// planes' inputs (argmax of the primal plane p mod P), nil for an empty window.
    @inline(__always)
    static func maxPoolPairs(_ g: ConvGeometry, planes: Int, argmax: UnsafePointer<Int32>,
                             _ body: (_ input: Int?, _ output: Int) -> Void) {
        let (inS, os, primalPlanes) = (g.inSpatial, g.outSpatial, g.batch * g.inChannels)
        for p in 0..<planes {
            let ap = argmax + (p % primalPlanes) * os
            for o in 0..<os {
                let a = Int(ap[o])
                body(a < 0 ? nil : p * inS + a, p * os + o)
            }
        }
    }

    /// Window rows/cols and divisor of average pooling, as PyTorch computes them.
    @inlinable
    static func averageWindow(_ o: Int, stride: Int, pad: Int, kernel: Int, size: Int, padEnd: Int)
        -> (start: Int, end: Int, paddedSpan: Int) {
        let start = o * stride - pad
        let end = min(start + kernel, size + padEnd)
        let span = end - start
        return (max(start, 0), min(end, size), span)
    }

    /// y = averagepool(x) over `planes` planes; `countIncludePad` as ONNX/PyTorch.
    @_specialize(exported: true, where Scalar == Float) @_specialize(exported: true, where Scalar == Double)
    public static func averagePoolForward<Scalar: TensorScalar>(_ g: ConvGeometry, planes: Int, countIncludePad: Bool,
                                                                x: UnsafePointer<Scalar>, y: UnsafeMutablePointer<Scalar>) {
        averagePool(g, planes: planes, countIncludePad: countIncludePad) { p, iy0, iy1, ix0, ix1, o, scale in
            let xp = x + p * g.inSpatial
            var sum: Scalar = 0
            for iy in iy0..<iy1 { for ix in ix0..<ix1 { sum += xp[iy * g.inWidth + ix] } }
            y[p * g.outSpatial + o] = sum * scale
        }
    }

    /// dx += adjoint of average pooling applied to dy (dx is not cleared).
    @_specialize(exported: true, where Scalar == Float) @_specialize(exported: true, where Scalar == Double)
    public static func averagePoolBackward<Scalar: TensorScalar>(_ g: ConvGeometry, planes: Int, countIncludePad: Bool,
                                                                 dy: UnsafePointer<Scalar>, dx: UnsafeMutablePointer<Scalar>) {
        averagePool(g, planes: planes, countIncludePad: countIncludePad) { p, iy0, iy1, ix0, ix1, o, scale in
            let xp = dx + p * g.inSpatial
            let v = dy[p * g.outSpatial + o] * scale
            for iy in iy0..<iy1 { for ix in ix0..<ix1 { xp[iy * g.inWidth + ix] += v } }
        }
    }

    @inlinable
    static func averagePool<Scalar: TensorScalar>(_ g: ConvGeometry, planes: Int, countIncludePad: Bool,
                                                  _ body: (Int, Int, Int, Int, Int, Int, Scalar) -> Void) {
        for p in 0..<planes {
            for oy in 0..<g.outHeight {
                let r = averageWindow(oy, stride: g.strideH, pad: g.padTop, kernel: g.kernelHeight,
                                      size: g.inHeight, padEnd: g.padBottom)
                for ox in 0..<g.outWidth {
                    let c = averageWindow(ox, stride: g.strideW, pad: g.padLeft, kernel: g.kernelWidth,
                                          size: g.inWidth, padEnd: g.padRight)
                    let count = countIncludePad ? r.paddedSpan * c.paddedSpan
                                                : max(0, r.end - r.start) * max(0, c.end - c.start)
                    let scale: Scalar = count > 0 ? 1 / Scalar(count) : 0
                    body(p, r.start, max(r.start, r.end), c.start, max(c.start, c.end), oy * g.outWidth + ox, scale)
                }
            }
        }
    }
}
