/// Direct NCHW convolution of Float tensors, compiled for AVX2 + FMA (Package.swift gives this
/// target `-target-cpu haswell` on x86-64). Callers must check that the CPU has avx2 and fma
/// before calling anything here; every entry point is `@inline(never)` so that none of this code
/// is inlined into modules built for baseline x86-64. On other architectures the target
/// compiles as plain Swift and is never called.
///
/// Output is vectorized over columns: an accumulator is 8 consecutive output columns of one row
/// of one output channel, any OW (`PlaneVectors`: the last vector of a row overlaps the one
/// before, or, narrower than 8, masks its lanes past the row). A tile is 4 output channels x 3 such
/// vectors = 12 ymm accumulators; each (ci, kh, kw) step loads 3 input vectors shared by the 4
/// channels, broadcasts 4 weights and does 12 FMAs. Every output element is summed from zero in
/// the fixed order (ci, kh, kw), then stored or added to y: its bits do not depend on the tile,
/// the example, the thread or the caller's blocking.
public struct DirectConvShape: Sendable, Equatable {
    public var inChannels: Int, inHeight: Int, inWidth: Int
    public var outChannels: Int, kernelHeight: Int, kernelWidth: Int
    public var strideH: Int, strideW: Int, padTop: Int, padLeft: Int
    public var outHeight: Int, outWidth: Int

    public init(inChannels: Int, inHeight: Int, inWidth: Int, outChannels: Int, kernelHeight: Int, kernelWidth: Int,
                strideH: Int, strideW: Int, padTop: Int, padLeft: Int, outHeight: Int, outWidth: Int) {
        self.inChannels = inChannels; self.inHeight = inHeight; self.inWidth = inWidth
        self.outChannels = outChannels; self.kernelHeight = kernelHeight; self.kernelWidth = kernelWidth
        self.strideH = strideH; self.strideW = strideW; self.padTop = padTop; self.padLeft = padLeft
        self.outHeight = outHeight; self.outWidth = outWidth
    }

    /// Whether the kernel handles this shape: any positive sizes.
    public var fits: Bool {
        outWidth >= 1 && outHeight >= 1 && inChannels >= 1 && outChannels >= 1
            && kernelHeight >= 1 && kernelWidth >= 1 && strideH >= 1 && strideW >= 1
    }

    /// The padded input of one example is [ci][row][phase][index]: padded column c = index *
    /// strideW + phase, so that the 8 inputs of one output vector are contiguous for any stride.
    public var paddedHeight: Int { (outHeight - 1) * strideH + kernelHeight }
    public var phaseLength: Int { outWidth + (kernelWidth - 1) / strideW }
    public var rowStride: Int { strideW * phaseLength }
    public var channelStride: Int { paddedHeight * rowStride }
    /// Floats of one example's padded input, and `readSlack` zeros after it.
    public var paddedCount: Int { inChannels * channelStride + Self.readSlack }
    /// Floats a vector of up to 16 lanes may read past a padded input's last row (lanes past a
    /// row narrower than the vector, never stored).
    public static let readSlack = 16
    /// Floats of one packed weight block: [C_out / 4 rounded up][ci][kh][kw][4], zero-filled.
    public var packedWeightCount: Int { (outChannels + 3) / 4 * 4 * inChannels * kernelHeight * kernelWidth }
}

/// What a direct kernel does with its sums s: y = s, y = y + s, or y = a + s for an addend a
/// that sits `offset` floats after y (a pass that would add it afterwards, fused).
public enum DirectStore: Sendable, Equatable {
    case overwrite
    case accumulate
    case addend(offset: Int)
}

public enum DirectConvAVX2 {
    /// Packs w [C_out, C_in, kH, kW] into `packed` (shape.packedWeightCount floats).
    @inline(never)
    public static func packWeights(_ s: DirectConvShape, w: UnsafePointer<Float>, into packed: UnsafeMutablePointer<Float>) {
        let steps = s.inChannels * s.kernelHeight * s.kernelWidth
        pack(s, into: packed, channelStride: steps) { k in w + k }
    }

    /// Packs the weights of the stride-1 data gradient of a convolution with weights w
    /// [C_out, C_in, kH, kW], run as the forward convolution `s` (s.inChannels = C_out,
    /// s.outChannels = C_in) with w'[ci][co][i][j] = w[co][ci][kH-1-i][kW-1-j], without
    /// materializing w'. The same packed floats as `packWeights` of w'.
    @inline(never)
    public static func packWeightsFlippedTransposed(_ s: DirectConvShape, w: UnsafePointer<Float>,
                                                    into packed: UnsafeMutablePointer<Float>) {
        let (kh, kw) = (s.kernelHeight, s.kernelWidth)
        let kk = kh * kw, plane = s.outChannels * kk   // one original output channel of w
        var sources = [UnsafePointer<Float>]()
        sources.reserveCapacity(s.inChannels * kk)
        for co in 0..<s.inChannels {
            for i in 0..<kh {
                for j in 0..<kw { sources.append(w + co * plane + (kh - 1 - i) * kw + (kw - 1 - j)) }
            }
        }
        sources.withUnsafeBufferPointer { src in
            pack(s, into: packed, channelStride: kk) { k in src[k] }
        }
    }

    /// packed[cb][k][c] = source(k)[(cb * 4 + c) * channelStride] for step k = (ci, kh, kw):
    /// weight (co, k) sits at source(k) + co * channelStride. 0 past the last channel; written
    /// in order, four channels at a time.
    @inline(__always)
    static func pack(_ s: DirectConvShape, into packed: UnsafeMutablePointer<Float>, channelStride: Int,
                     _ source: (Int) -> UnsafePointer<Float>) {
        let steps = s.inChannels * s.kernelHeight * s.kernelWidth
        var dst = packed
        for cb in 0..<((s.outChannels + 3) / 4) {
            let co = cb * 4, channels = min(4, s.outChannels - co)
            for k in 0..<steps {
                let p = source(k) + co * channelStride
                dst[0] = p[0]
                dst[1] = channels > 1 ? p[channelStride] : 0
                dst[2] = channels > 2 ? p[2 * channelStride] : 0
                dst[3] = channels > 3 ? p[3 * channelStride] : 0
                dst += 4
            }
        }
    }

    /// Copies one example x [C_in, H, W] into the zero-padded, phase-split layout (shape.paddedCount floats).
    @inline(never)
    public static func padInput(_ s: DirectConvShape, x: UnsafePointer<Float>, into p: UnsafeMutablePointer<Float>) {
        zero(p + s.inChannels * s.channelStride, DirectConvShape.readSlack)   // finite values for the masked lanes
        if s.strideW == 1, padStrideOne(s, x: x, into: p) { return }
        let (h, w, sw, len) = (s.inHeight, s.inWidth, s.strideW, s.phaseLength)
        for ci in 0..<s.inChannels {
            let xc = x + ci * h * w
            for r in 0..<s.paddedHeight {
                let row = p + ci * s.channelStride + r * s.rowStride
                let iy = r - s.padTop
                if iy < 0 || iy >= h { zero(row, s.rowStride); continue }
                let xr = xc + iy * w
                if sw == 1 {
                    // padded column j is input column j - padLeft when inside the input. Inline
                    // loops: rows are short, and memcpy / memset calls cost more than the copy.
                    // (the data gradient's stride phases give negative pads: lo is then 0)
                    let lo = max(0, min(len, s.padLeft)), hi = max(lo, min(len, w + s.padLeft))
                    let src = xr - s.padLeft
                    var j = lo
                    if lo <= 8 && len - hi <= 8 && len >= 8 {
                        // pads of up to 8 as two zero vectors that the copy then overwrites where it
                        // must (a scalar zero loop here becomes a memset call per row)
                        UnsafeMutableRawPointer(row).storeBytes(of: SIMD8<Float>(), as: SIMD8<Float>.self)
                        UnsafeMutableRawPointer(row + len - 8).storeBytes(of: SIMD8<Float>(), as: SIMD8<Float>.self)
                    } else {
                        zero(row, lo)
                        zero(row + hi, len - hi)
                    }
                    while j + 8 <= hi { UnsafeMutableRawPointer(row + j).storeBytes(of: load(src + j), as: SIMD8<Float>.self); j += 8 }
                    if j < hi {   // the last partial vector, ending at hi
                        if hi - lo >= 8 {
                            UnsafeMutableRawPointer(row + hi - 8).storeBytes(of: load(src + hi - 8), as: SIMD8<Float>.self)
                        } else {
                            while j < hi { row[j] = src[j]; j += 1 }
                        }
                    }
                    continue
                }
                // phase p, index j holds input column j * sw + p - padLeft: zero the row, then
                // copy each phase's contiguous range of valid j without branches
                zero(row, s.rowStride)
                for phase in 0..<sw {
                    let dst = row + phase * len, first = phase - s.padLeft
                    let lo = first >= 0 ? 0 : (sw - 1 - first) / sw
                    let hi = w - first <= 0 ? 0 : min(len, (w - first + sw - 1) / sw)
                    var j = lo
                    if sw == 2 {
                        // 16 inputs -> the 8 of this phase, while the 16 stay inside the row
                        while j + 8 <= hi && 2 * j + first + 16 <= w {
                            let v = UnsafeRawPointer(xr + 2 * j + first).loadUnaligned(as: SIMD16<Float>.self)
                            UnsafeMutableRawPointer(dst + j).storeBytes(of: v.evenHalf, as: SIMD8<Float>.self)
                            j += 8
                        }
                    }
                    while j < hi { dst[j] = xr[j * sw + first]; j += 1 }
                }
            }
        }
    }

    /// `padInput` for stride 1, pads of 0...8 on both sides and rows of at least 8: everything
    /// per row is fixed by the shape, so a row is two zero vectors (the pads, overwritten by
    /// the copy where they overlap it) and whole-vector copies, the last one overlapping. The
    /// general loop spent ~30 cycles a row on bookkeeping (3.2 us for 16x32x32, 20 GB/s from L2).
    /// False (nothing written) for other shapes.
    @inline(__always)
    static func padStrideOne(_ s: DirectConvShape, x: UnsafePointer<Float>, into p: UnsafeMutablePointer<Float>) -> Bool {
        let (h, w, len, lo) = (s.inHeight, s.inWidth, s.phaseLength, s.padLeft)
        guard lo >= 0, lo <= 8, w >= 8, len >= 8, lo + w <= len, len - (lo + w) <= 8 else { return false }
        let vectors = w / 8
        let (top, bottom) = (s.padTop, s.padTop + h)
        for ci in 0..<s.inChannels {
            let xc = x + ci * h * w
            var row = p + ci * s.channelStride
            for r in 0..<s.paddedHeight {
                if r < top || r >= bottom {
                    zero(row, len)
                } else {
                    let src = xc + (r - top) * w, dst = row + lo
                    UnsafeMutableRawPointer(row).storeBytes(of: SIMD8<Float>(), as: SIMD8<Float>.self)
                    UnsafeMutableRawPointer(row + len - 8).storeBytes(of: SIMD8<Float>(), as: SIMD8<Float>.self)
                    for v in 0..<vectors {
                        UnsafeMutableRawPointer(dst + 8 * v).storeBytes(of: load(src + 8 * v), as: SIMD8<Float>.self)
                    }
                    UnsafeMutableRawPointer(dst + w - 8).storeBytes(of: load(src + w - 8), as: SIMD8<Float>.self)
                }
                row += len
            }
        }
        return true
    }

    /// One stride phase of a strided data gradient into dx: for each of `rows` rows,
    /// dst[r * dstRowStride + j * stride + phase] (+)= src[r * width + j], j < width, where a dx row
    /// holds `rowLength` floats from dst + r * dstRowStride. Stride 2 goes in 16-float windows of
    /// the dx row (loaded, this phase's lanes replaced or added to, stored back; never past the
    /// row, so nothing outside this row is touched), the rest one float at a time: the same
    /// sums, faster than the strided scalar stores.
    @inline(never)
    public static func scatterPhase(_ src: UnsafePointer<Float>, rows: Int, width: Int, into dst: UnsafeMutablePointer<Float>,
                                    dstRowStride: Int, rowLength: Int, stride: Int, phase: Int, accumulate: Bool) {
        for r in 0..<rows {
            let s = src + r * width, d = dst + r * dstRowStride
            var j = 0
            if stride == 2 {
                while j + 8 <= width && 2 * j + 16 <= rowLength {
                    let v = load(s + j)
                    var window = UnsafeRawPointer(d + 2 * j).loadUnaligned(as: SIMD16<Float>.self)
                    if phase == 0 {
                        window.evenHalf = accumulate ? window.evenHalf + v : v
                    } else {
                        window.oddHalf = accumulate ? window.oddHalf + v : v
                    }
                    UnsafeMutableRawPointer(d + 2 * j).storeBytes(of: window, as: SIMD16<Float>.self)
                    j += 8
                }
            }
            if accumulate {
                while j < width { d[j * stride + phase] += s[j]; j += 1 }
            } else {
                while j < width { d[j * stride + phase] = s[j]; j += 1 }
            }
        }
    }

    /// y [C_out, OH, OW] (+)= conv(padded input of one example, packed weights).
    @inline(never)
    /// `skipZeroChannels`: input channels whose padded plane is all zeros are left out
    /// (`DirectVectors.keptSteps`; same bits).
    public static func forward(_ s: DirectConvShape, padded: UnsafePointer<Float>, packed: UnsafePointer<Float>,
                               y: UnsafeMutablePointer<Float>, mode: DirectStore, skipZeroChannels: Bool = true) {
        let (kh, kw, sw) = (s.kernelHeight, s.kernelWidth, s.strideW)
        let kk = kh * kw, steps = s.inChannels * kk
        let ys = s.outHeight * s.outWidth
        let planeInts = PlaneVectors.tableCount(outHeight: s.outHeight, outWidth: s.outWidth, width: 8)
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * steps + planeInts) { table in
            // input offset of step (ci, kh, kw) relative to the first input of an output vector
            DirectVectors.stepOffsets(table.baseAddress!, channels: s.inChannels, kh: kh, kw: kw,
                                      channelStride: s.channelStride) { i, j in i * s.rowStride + (j % sw) * s.phaseLength + j / sw }
            let kept = DirectVectors.keptSteps(table.baseAddress!, weights: table.baseAddress! + steps, channels: s.inChannels,
                                               kk: kk, input: padded, channelStride: s.channelStride, skip: skipZeroChannels)
            let (off, wo) = (UnsafePointer(table.baseAddress!), UnsafePointer(table.baseAddress! + steps))
            let pv = PlaneVectors(table.baseAddress! + 2 * steps, outHeight: s.outHeight, outWidth: s.outWidth, width: 8,
                                  rowInput: s.strideH * s.rowStride)
            let (vi, vo, vl, vectors) = (pv.input, pv.output, pv.lanes, pv.count)
            DirectVectors.channelBlocks(outChannels: s.outChannels, steps: steps, packed: packed, y: y,
                                        planeStride: ys) { wp, channels, yc in
                var v = 0
                while v + 3 <= vectors {
                    tile3(padded, vi[v], vi[v + 1], vi[v + 2], wp, off, wo, kept, yc + vo[v], yc + vo[v + 1], yc + vo[v + 2],
                          vl[v], vl[v + 1], vl[v + 2], ys, channels, mode)
                    v += 3
                }
                if vectors - v == 2 {
                    tile2(padded, vi[v], vi[v + 1], wp, off, wo, kept, yc + vo[v], yc + vo[v + 1], vl[v], vl[v + 1], ys, channels, mode)
                } else if vectors - v == 1 {
                    DirectVectors.tile1(padded, vi[v], wp, off, wo, kept, yc + vo[v], vl[v], ys, channels, mode, as: SIMD8<Float>.self)
                }
            }
        }
    }

    @inline(__always)
    static func zero(_ p: UnsafeMutablePointer<Float>, _ count: Int) {
        var j = 0
        while j + 8 <= count { UnsafeMutableRawPointer(p + j).storeBytes(of: SIMD8<Float>(), as: SIMD8<Float>.self); j += 8 }
        while j < count { p[j] = 0; j += 1 }
    }

    // this width's DirectVectors
    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> { DirectVectors.load(p) }
    @inline(__always) static func store(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, _ m: DirectStore, _ lanes: Int) {
        DirectVectors.store(v, p, m, lanes: lanes)
    }

    @inline(__always)
    static func tile3(_ x: UnsafePointer<Float>, _ o0: Int, _ o1: Int, _ o2: Int, _ w: UnsafePointer<Float>,
                      _ off: UnsafePointer<Int>, _ wo: UnsafePointer<Int>, _ steps: Int,
                      _ y0: UnsafeMutablePointer<Float>, _ y1: UnsafeMutablePointer<Float>, _ y2: UnsafeMutablePointer<Float>,
                      _ l0: Int, _ l1: Int, _ l2: Int, _ ys: Int, _ channels: Int, _ mode: DirectStore) {
        var a00 = SIMD8<Float>(), a01 = SIMD8<Float>(), a02 = SIMD8<Float>()
        var a10 = SIMD8<Float>(), a11 = SIMD8<Float>(), a12 = SIMD8<Float>()
        var a20 = SIMD8<Float>(), a21 = SIMD8<Float>(), a22 = SIMD8<Float>()
        var a30 = SIMD8<Float>(), a31 = SIMD8<Float>(), a32 = SIMD8<Float>()
        let (x0, x1, x2) = (x + o0, x + o1, x + o2)
        for k in 0..<steps {
            let o = off[k], wp = w + wo[k]
            let v0 = load(x0 + o), v1 = load(x1 + o), v2 = load(x2 + o)
            let w0 = SIMD8<Float>(repeating: wp[0])
            a00 = a00.addingProduct(v0, w0); a01 = a01.addingProduct(v1, w0); a02 = a02.addingProduct(v2, w0)
            let w1 = SIMD8<Float>(repeating: wp[1])
            a10 = a10.addingProduct(v0, w1); a11 = a11.addingProduct(v1, w1); a12 = a12.addingProduct(v2, w1)
            let w2 = SIMD8<Float>(repeating: wp[2])
            a20 = a20.addingProduct(v0, w2); a21 = a21.addingProduct(v1, w2); a22 = a22.addingProduct(v2, w2)
            let w3 = SIMD8<Float>(repeating: wp[3])
            a30 = a30.addingProduct(v0, w3); a31 = a31.addingProduct(v1, w3); a32 = a32.addingProduct(v2, w3)
        }
        store(a00, y0, mode, l0); store(a01, y1, mode, l1); store(a02, y2, mode, l2)
        if channels > 1 { store(a10, y0 + ys, mode, l0); store(a11, y1 + ys, mode, l1); store(a12, y2 + ys, mode, l2) }
        if channels > 2 {
            store(a20, y0 + 2 * ys, mode, l0); store(a21, y1 + 2 * ys, mode, l1); store(a22, y2 + 2 * ys, mode, l2)
        }
        if channels > 3 {
            store(a30, y0 + 3 * ys, mode, l0); store(a31, y1 + 3 * ys, mode, l1); store(a32, y2 + 3 * ys, mode, l2)
        }
    }

    @inline(__always)
    static func tile2(_ x: UnsafePointer<Float>, _ o0: Int, _ o1: Int, _ w: UnsafePointer<Float>,
                      _ off: UnsafePointer<Int>, _ wo: UnsafePointer<Int>, _ steps: Int,
                      _ y0: UnsafeMutablePointer<Float>, _ y1: UnsafeMutablePointer<Float>,
                      _ l0: Int, _ l1: Int, _ ys: Int, _ channels: Int, _ mode: DirectStore) {
        var a00 = SIMD8<Float>(), a01 = SIMD8<Float>(), a10 = SIMD8<Float>(), a11 = SIMD8<Float>()
        var a20 = SIMD8<Float>(), a21 = SIMD8<Float>(), a30 = SIMD8<Float>(), a31 = SIMD8<Float>()
        let (x0, x1) = (x + o0, x + o1)
        for k in 0..<steps {
            let o = off[k], wp = w + wo[k]
            let v0 = load(x0 + o), v1 = load(x1 + o)
            let w0 = SIMD8<Float>(repeating: wp[0]), w1 = SIMD8<Float>(repeating: wp[1])
            let w2 = SIMD8<Float>(repeating: wp[2]), w3 = SIMD8<Float>(repeating: wp[3])
            a00 = a00.addingProduct(v0, w0); a01 = a01.addingProduct(v1, w0)
            a10 = a10.addingProduct(v0, w1); a11 = a11.addingProduct(v1, w1)
            a20 = a20.addingProduct(v0, w2); a21 = a21.addingProduct(v1, w2)
            a30 = a30.addingProduct(v0, w3); a31 = a31.addingProduct(v1, w3)
        }
        store(a00, y0, mode, l0); store(a01, y1, mode, l1)
        if channels > 1 { store(a10, y0 + ys, mode, l0); store(a11, y1 + ys, mode, l1) }
        if channels > 2 { store(a20, y0 + 2 * ys, mode, l0); store(a21, y1 + 2 * ys, mode, l1) }
        if channels > 3 { store(a30, y0 + 3 * ys, mode, l0); store(a31, y1 + 3 * ys, mode, l1) }
    }
}
