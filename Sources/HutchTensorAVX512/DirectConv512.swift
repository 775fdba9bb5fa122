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
    /// y [C_out, OH, OW] (+)= conv(padded input of one example, packed weights), as
    /// DirectConvAVX2.forward, in 16-column vectors along the rows (`PlaneVectors`, any OW; an
    /// unpadded input needs OW >= 16, as nothing may be read past it).
    @inline(never)
    public static func forward(_ s: DirectConvShape, padded: UnsafePointer<Float>, packed: UnsafePointer<Float>,
                               y: UnsafeMutablePointer<Float>, mode: DirectStore, skipZeroChannels: Bool = true) {
        let sw = s.strideW
        let (rowStride, channelStride, phaseLength) = (s.rowStride, s.channelStride, s.phaseLength)
        run(s, input: padded, packed: packed, y: y, mode: mode, skipZeroChannels: skipZeroChannels,
            offset: { ci, i, j in ci * channelStride + i * rowStride + (j % sw) * phaseLength + j / sw },
            vectorInts: PlaneVectors.tableCount(outHeight: s.outHeight, outWidth: s.outWidth, width: 16)) { base in
            PlaneVectors(base, outHeight: s.outHeight, outWidth: s.outWidth, width: 16, rowInput: s.strideH * rowStride)
        }
    }

    /// Narrow outputs (OW = 8, OH even: the 64-channel 8x8 layers) as 16-column vectors over two
    /// rows: the input is first expanded (`expand`) so that the 16 inputs of a vector are
    /// contiguous. Same summation order, same bits.
    public static func fitsExpanded(_ s: DirectConvShape) -> Bool {
        s.fits && s.outWidth == 8 && s.outHeight % 2 == 0
    }

    /// The expanded layout [ci][kw][row phase][q][ox]: padded row q * sH + phase, padded column
    /// ox * sW + kw, rows of exactly 8. Tap (ci, kh, kw) of output rows oy, oy + 1 reads rows
    /// q = oy + kh / sH and q + 1 of phase kh % sH: 16 contiguous floats. `phases` = min(sH, kH)
    /// (others are never read), `rows` = OH + (kH - 1) / sH per phase.
    static func expandedPhases(_ s: DirectConvShape) -> Int { min(s.strideH, s.kernelHeight) }
    static func expandedRows(_ s: DirectConvShape) -> Int { s.outHeight + (s.kernelHeight - 1) / s.strideH }

    /// Floats of one example's expanded input: kW copies of the padded rows, each 8 wide (3x the
    /// input for 3x3 stride 1; a [ci][kh][kw][OH * OW] expansion was 9x, after a padded copy).
    public static func expandedCount(_ s: DirectConvShape) -> Int {
        s.inChannels * s.kernelWidth * expandedPhases(s) * expandedRows(s) * 8
    }

    /// One example x [C_in, H, W] (unpadded) -> the expanded layout; `fitsExpanded(s)`. Each input
    /// row goes once into a zero-bordered row buffer, from which the kW shifted 8-column windows
    /// are loaded; rows in the vertical padding are zeros.
    @inline(never)
    public static func expand(_ s: DirectConvShape, x: UnsafePointer<Float>, into e: UnsafeMutablePointer<Float>) {
        let (h, w, kw, sh, sw) = (s.inHeight, s.inWidth, s.kernelWidth, s.strideH, s.strideW)
        let (phases, rows) = (expandedPhases(s), expandedRows(s))
        // row buffer: input column c at margin + c; every window column (ox * sW + j - padLeft)
        // lands inside, on zeros outside the input; 16 floats of slack for the stride-2 loads
        let margin = max(0, s.padLeft), last = 7 * sw + kw - 1 - s.padLeft
        let count = margin + max(w, last + 1) + 16
        withUnsafeTemporaryAllocation(of: Float.self, capacity: count) { buffer in
            let row = buffer.baseAddress!
            row.initialize(repeating: 0, count: count)
            for ci in 0..<s.inChannels {
                let xc = x + ci * h * w
                for r in 0..<s.paddedHeight where r % sh < phases {
                    let dst = e + (ci * kw * phases + r % sh) * rows * 8 + r / sh * 8, jStride = phases * rows * 8
                    let iy = r - s.padTop
                    guard iy >= 0 && iy < h else {
                        for j in 0..<kw { UnsafeMutableRawPointer(dst + j * jStride).storeBytes(of: SIMD8<Float>(), as: SIMD8<Float>.self) }
                        continue
                    }
                    let src = xc + iy * w
                    var c = 0
                    while c + 8 <= w {
                        UnsafeMutableRawPointer(row + margin + c).storeBytes(of: UnsafeRawPointer(src + c).loadUnaligned(as: SIMD8<Float>.self),
                                                                            as: SIMD8<Float>.self)
                        c += 8
                    }
                    while c < w { row[margin + c] = src[c]; c += 1 }
                    for j in 0..<kw {
                        let window = UnsafePointer(row) + margin + j - s.padLeft
                        let v: SIMD8<Float>
                        switch sw {
                        case 1: v = UnsafeRawPointer(window).loadUnaligned(as: SIMD8<Float>.self)
                        case 2: v = UnsafeRawPointer(window).loadUnaligned(as: SIMD16<Float>.self).evenHalf
                        default:
                            var g = SIMD8<Float>()
                            for l in 0..<8 { g[l] = window[l * sw] }
                            v = g
                        }
                        UnsafeMutableRawPointer(dst + j * jStride).storeBytes(of: v, as: SIMD8<Float>.self)
                    }
                }
            }
        }
    }

    /// y (+)= conv(expanded input of one example, packed weights); `fitsExpanded(s)`.
    @inline(never)
    public static func forwardExpanded(_ s: DirectConvShape, expanded: UnsafePointer<Float>, packed: UnsafePointer<Float>,
                                       y: UnsafeMutablePointer<Float>, mode: DirectStore, skipZeroChannels: Bool = true) {
        let (kw, sh, phases, rows) = (s.kernelWidth, s.strideH, expandedPhases(s), expandedRows(s))
        let vectors = s.outHeight * s.outWidth / 16
        run(s, input: expanded, packed: packed, y: y, mode: mode, skipZeroChannels: skipZeroChannels,
            offset: { ci, i, j in (((ci * kw + j) * phases + i % sh) * rows + i / sh) * 8 }, vectorInts: 3 * vectors) { base in
            PlaneVectors(base, flat: vectors, width: 16)
        }
    }

    /// The tiling shared by both layouts: `offset(ci, kh, kw)` is a step's input offset (linear
    /// in ci), `vectors` lays out the output vectors in `vectorInts` Ints of a temporary table.
    @inline(__always)
    static func run(_ s: DirectConvShape, input: UnsafePointer<Float>, packed: UnsafePointer<Float>,
                    y: UnsafeMutablePointer<Float>, mode: DirectStore, skipZeroChannels: Bool,
                    offset: (Int, Int, Int) -> Int, vectorInts: Int, vectors: (UnsafeMutablePointer<Int>) -> PlaneVectors) {
        let (kh, kw) = (s.kernelHeight, s.kernelWidth)
        let steps = s.inChannels * kh * kw
        let ys = s.outHeight * s.outWidth
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * steps + vectorInts) { table in
            // offset is linear in ci, from offset(0, 0, 0) = 0: channel ci's input starts at ci * channelStride
            let channelStride = offset(1, 0, 0) - offset(0, 0, 0)
            DirectVectors.stepOffsets(table.baseAddress!, channels: s.inChannels, kh: kh, kw: kw,
                                      channelStride: channelStride) { i, j in offset(0, i, j) }
            let kept = DirectVectors.keptSteps(table.baseAddress!, weights: table.baseAddress! + steps, channels: s.inChannels,
                                               kk: kh * kw, input: input, channelStride: channelStride, skip: skipZeroChannels)
            let (off, wo) = (UnsafePointer(table.baseAddress!), UnsafePointer(table.baseAddress! + steps))
            let pv = vectors(table.baseAddress! + 2 * steps)
            let (vi, vo, vl, count) = (pv.input, pv.output, pv.lanes, pv.count)
            DirectVectors.channelBlocks(outChannels: s.outChannels, steps: steps, packed: packed, y: y,
                                        planeStride: ys) { wp, channels, yc in
                var v = 0
                while v + 4 <= count {
                    tile4(input, vi + v, wp, off, wo, kept, yc, vo + v, vl + v, ys, channels, mode)
                    v += 4
                }
                while v < count {
                    DirectVectors.tile1(input, vi[v], wp, off, wo, kept, yc + vo[v], vl[v], ys, channels, mode, as: SIMD16<Float>.self)
                    v += 1
                }
            }
        }
    }

    // this width's DirectVectors
    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> SIMD16<Float> { DirectVectors.load(p) }
    @inline(__always) static func store(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>, _ m: DirectStore, _ lanes: Int) {
        DirectVectors.store(v, p, m, lanes: lanes)
    }

    /// 4 vectors: input offsets o[0...3], outputs y + yo[0...3], stored lanes l[0...3] (`PlaneVectors`).
    @inline(__always)
    static func tile4(_ x: UnsafePointer<Float>, _ o: UnsafePointer<Int>, _ w: UnsafePointer<Float>,
                      _ off: UnsafePointer<Int>, _ wo: UnsafePointer<Int>, _ steps: Int, _ y: UnsafeMutablePointer<Float>,
                      _ yo: UnsafePointer<Int>,
                      _ l: UnsafePointer<Int>, _ ys: Int, _ channels: Int, _ mode: DirectStore) {
        var a00 = SIMD16<Float>(), a01 = SIMD16<Float>(), a02 = SIMD16<Float>(), a03 = SIMD16<Float>()
        var a10 = SIMD16<Float>(), a11 = SIMD16<Float>(), a12 = SIMD16<Float>(), a13 = SIMD16<Float>()
        var a20 = SIMD16<Float>(), a21 = SIMD16<Float>(), a22 = SIMD16<Float>(), a23 = SIMD16<Float>()
        var a30 = SIMD16<Float>(), a31 = SIMD16<Float>(), a32 = SIMD16<Float>(), a33 = SIMD16<Float>()
        let (x0, x1, x2, x3) = (x + o[0], x + o[1], x + o[2], x + o[3])
        for k in 0..<steps {
            let o = off[k], wp = w + wo[k]
            let v0 = load(x0 + o), v1 = load(x1 + o), v2 = load(x2 + o), v3 = load(x3 + o)
            let w0 = SIMD16<Float>(repeating: wp[0])
            a00 = a00.addingProduct(v0, w0); a01 = a01.addingProduct(v1, w0); a02 = a02.addingProduct(v2, w0); a03 = a03.addingProduct(v3, w0)
            let w1 = SIMD16<Float>(repeating: wp[1])
            a10 = a10.addingProduct(v0, w1); a11 = a11.addingProduct(v1, w1); a12 = a12.addingProduct(v2, w1); a13 = a13.addingProduct(v3, w1)
            let w2 = SIMD16<Float>(repeating: wp[2])
            a20 = a20.addingProduct(v0, w2); a21 = a21.addingProduct(v1, w2); a22 = a22.addingProduct(v2, w2); a23 = a23.addingProduct(v3, w2)
            let w3 = SIMD16<Float>(repeating: wp[3])
            a30 = a30.addingProduct(v0, w3); a31 = a31.addingProduct(v1, w3); a32 = a32.addingProduct(v2, w3); a33 = a33.addingProduct(v3, w3)
        }
        let (y0, y1, y2, y3) = (y + yo[0], y + yo[1], y + yo[2], y + yo[3])
        let (l0, l1, l2, l3) = (l[0], l[1], l[2], l[3])
        store(a00, y0, mode, l0); store(a01, y1, mode, l1); store(a02, y2, mode, l2); store(a03, y3, mode, l3)
        if channels > 1 {
            store(a10, y0 + ys, mode, l0); store(a11, y1 + ys, mode, l1); store(a12, y2 + ys, mode, l2); store(a13, y3 + ys, mode, l3)
        }
        if channels > 2 {
            let c = 2 * ys
            store(a20, y0 + c, mode, l0); store(a21, y1 + c, mode, l1); store(a22, y2 + c, mode, l2); store(a23, y3 + c, mode, l3)
        }
        if channels > 3 {
            let c = 3 * ys
            store(a30, y0 + c, mode, l0); store(a31, y1 + c, mode, l1); store(a32, y2 + c, mode, l2); store(a33, y3 + c, mode, l3)
        }
    }
}
