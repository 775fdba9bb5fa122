import HutchTensorAVX2

/// The direct convolution of HutchTensorAVX2 with 16-column vectors, compiled for AVX-512
/// (Package.swift: `-target-cpu skylake-avx512` on x86-64). On this machine (AMD family 26, full
/// 512-bit FMA units) a zmm FMA loop runs at 2x the ymm one (about 225 vs 112 GFLOP per
/// CPU-second). Callers check the CPU flags first; entry points are `@inline(never)`.
///
/// Same padded input, packed weights and summation order as the AVX2 kernel: every output
/// element is fma'd from zero in the order (ci, kh, kw), one lane each, so both kernels give the
/// same bits. A tile is 4 output channels x 4 vectors of 16 columns (16 zmm accumulators).
/// The tiles mirror DirectConvAVX2's at another vector width on purpose: Swift has no per-function
/// target attribute, so each width lives in a target compiled with its own -target-cpu.
public enum DirectConvAVX512 {
    /// Whether this kernel runs the shape: whole 16-column vectors.
    public static func fits(_ s: DirectConvShape) -> Bool {
        s.fits && s.outWidth % 16 == 0
    }

    /// y [C_out, OH, OW] (+)= conv(padded input of one example, packed weights), as
    /// DirectConvAVX2.forward; `fits(s)`.
    @inline(never)
    public static func forward(_ s: DirectConvShape, padded: UnsafePointer<Float>, packed: UnsafePointer<Float>,
                               y: UnsafeMutablePointer<Float>, mode: DirectStore) {
        let sw = s.strideW
        let vpr = s.outWidth / 16
        let (rowStride, channelStride, phaseLength, strideH) = (s.rowStride, s.channelStride, s.phaseLength, s.strideH)
        run(s, input: padded, packed: packed, y: y, mode: mode,
            offset: { ci, i, j in ci * channelStride + i * rowStride + (j % sw) * phaseLength + j / sw },
            vectorOffset: { v in
                let oy = v / vpr, ox0 = (v - oy * vpr) * 16
                return oy * strideH * rowStride + ox0
            })
    }

    /// Narrow outputs (OW = 8, OH even: the 64-channel 8x8 layers) as 16-column vectors over two
    /// rows: the input is first expanded to [ci][kh][kw][OH * OW] (`expand`), so that the 16
    /// inputs of a vector are contiguous. Same summation order, same bits.
    public static func fitsExpanded(_ s: DirectConvShape) -> Bool {
        s.fits && s.outWidth == 8 && s.outHeight % 2 == 0
    }

    /// Floats of one example's expanded input.
    public static func expandedCount(_ s: DirectConvShape) -> Int {
        s.inChannels * s.kernelHeight * s.kernelWidth * s.outHeight * s.outWidth
    }

    /// padded (DirectConvAVX2.padInput layout) -> [ci][kh][kw][oy][ox], ox < 8; `fitsExpanded(s)`.
    @inline(never)
    public static func expand(_ s: DirectConvShape, padded: UnsafePointer<Float>, into e: UnsafeMutablePointer<Float>) {
        let (kh, kw, sw, oh) = (s.kernelHeight, s.kernelWidth, s.strideW, s.outHeight)
        var dst = e
        for ci in 0..<s.inChannels {
            for i in 0..<kh {
                for j in 0..<kw {
                    let src = padded + ci * s.channelStride + i * s.rowStride + (j % sw) * s.phaseLength + j / sw
                    for oy in 0..<oh {
                        UnsafeMutableRawPointer(dst).storeBytes(
                            of: UnsafeRawPointer(src + oy * s.strideH * s.rowStride).loadUnaligned(as: SIMD8<Float>.self),
                            as: SIMD8<Float>.self)
                        dst += 8
                    }
                }
            }
        }
    }

    /// y (+)= conv(expanded input of one example, packed weights); `fitsExpanded(s)`.
    @inline(never)
    public static func forwardExpanded(_ s: DirectConvShape, expanded: UnsafePointer<Float>, packed: UnsafePointer<Float>,
                                       y: UnsafeMutablePointer<Float>, mode: DirectStore) {
        let (kh, kw, plane) = (s.kernelHeight, s.kernelWidth, s.outHeight * s.outWidth)
        run(s, input: expanded, packed: packed, y: y, mode: mode,
            offset: { ci, i, j in ((ci * kh + i) * kw + j) * plane }, vectorOffset: { v in 16 * v })
    }

    /// The tiling shared by both layouts: `offset(ci, kh, kw)` is a step's input offset (linear
    /// in ci),
    /// `vectorOffset(v)` that of output vector v (y positions 16 v ..< 16 v + 16).
    @inline(__always)
    static func run(_ s: DirectConvShape, input: UnsafePointer<Float>, packed: UnsafePointer<Float>,
                    y: UnsafeMutablePointer<Float>, mode: DirectStore,
                    offset: (Int, Int, Int) -> Int, vectorOffset: (Int) -> Int) {
        let (kh, kw) = (s.kernelHeight, s.kernelWidth)
        let steps = s.inChannels * kh * kw
        let vectors = s.outHeight * s.outWidth / 16
        let ys = s.outHeight * s.outWidth
        withUnsafeTemporaryAllocation(of: Int.self, capacity: steps + vectors) { table in
            // offset is linear in ci
            DirectVectors.stepOffsets(table.baseAddress!, channels: s.inChannels, kh: kh, kw: kw,
                                      channelStride: offset(1, 0, 0) - offset(0, 0, 0)) { i, j in offset(0, i, j) }
            let off = UnsafePointer(table.baseAddress!)
            // the output vectors' input offsets, once (the closure is not inlined: a call per vector)
            let vo = table.baseAddress! + steps
            for v in 0..<vectors { vo[v] = vectorOffset(v) }
            DirectVectors.channelBlocks(outChannels: s.outChannels, steps: steps, packed: packed, y: y,
                                        planeStride: ys) { wp, channels, yc in
                var v = 0
                while v + 4 <= vectors {
                    tile4(input, vo[v], vo[v + 1], vo[v + 2], vo[v + 3], wp, off, steps, yc + 16 * v, ys, channels, mode)
                    v += 4
                }
                while v < vectors {
                    DirectVectors.tile1(input, vo[v], wp, off, steps, yc + 16 * v, ys, channels, mode, as: SIMD16<Float>.self)
                    v += 1
                }
            }
        }
    }

    // this width's DirectVectors
    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> SIMD16<Float> { DirectVectors.load(p) }
    @inline(__always) static func store(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>, _ m: DirectStore) {
        DirectVectors.store(v, p, m)
    }

    /// 4 consecutive vectors (y positions 16 v ..< 16 (v + 4)), each with its own input offset.
    @inline(__always)
    static func tile4(_ x: UnsafePointer<Float>, _ o0: Int, _ o1: Int, _ o2: Int, _ o3: Int, _ w: UnsafePointer<Float>,
                      _ off: UnsafePointer<Int>, _ steps: Int, _ y: UnsafeMutablePointer<Float>,
                      _ ys: Int, _ channels: Int, _ mode: DirectStore) {
        var a00 = SIMD16<Float>(), a01 = SIMD16<Float>(), a02 = SIMD16<Float>(), a03 = SIMD16<Float>()
        var a10 = SIMD16<Float>(), a11 = SIMD16<Float>(), a12 = SIMD16<Float>(), a13 = SIMD16<Float>()
        var a20 = SIMD16<Float>(), a21 = SIMD16<Float>(), a22 = SIMD16<Float>(), a23 = SIMD16<Float>()
        var a30 = SIMD16<Float>(), a31 = SIMD16<Float>(), a32 = SIMD16<Float>(), a33 = SIMD16<Float>()
        let (x0, x1, x2, x3) = (x + o0, x + o1, x + o2, x + o3)
        var wp = w
        for k in 0..<steps {
            let o = off[k]
            let v0 = load(x0 + o), v1 = load(x1 + o), v2 = load(x2 + o), v3 = load(x3 + o)
            let w0 = SIMD16<Float>(repeating: wp[0])
            a00 = a00.addingProduct(v0, w0); a01 = a01.addingProduct(v1, w0); a02 = a02.addingProduct(v2, w0); a03 = a03.addingProduct(v3, w0)
            let w1 = SIMD16<Float>(repeating: wp[1])
            a10 = a10.addingProduct(v0, w1); a11 = a11.addingProduct(v1, w1); a12 = a12.addingProduct(v2, w1); a13 = a13.addingProduct(v3, w1)
            let w2 = SIMD16<Float>(repeating: wp[2])
            a20 = a20.addingProduct(v0, w2); a21 = a21.addingProduct(v1, w2); a22 = a22.addingProduct(v2, w2); a23 = a23.addingProduct(v3, w2)
            let w3 = SIMD16<Float>(repeating: wp[3])
            a30 = a30.addingProduct(v0, w3); a31 = a31.addingProduct(v1, w3); a32 = a32.addingProduct(v2, w3); a33 = a33.addingProduct(v3, w3)
            wp += 4
        }
        store(a00, y, mode); store(a01, y + 16, mode); store(a02, y + 32, mode); store(a03, y + 48, mode)
        if channels > 1 {
            let yc = y + ys
            store(a10, yc, mode); store(a11, yc + 16, mode); store(a12, yc + 32, mode); store(a13, yc + 48, mode)
        }
        if channels > 2 {
            let yc = y + 2 * ys
            store(a20, yc, mode); store(a21, yc + 16, mode); store(a22, yc + 32, mode); store(a23, yc + 48, mode)
        }
        if channels > 3 {
            let yc = y + 3 * ys
            store(a30, yc, mode); store(a31, yc + 16, mode); store(a32, yc + 32, mode); store(a33, yc + 48, mode)
        }
    }
}
