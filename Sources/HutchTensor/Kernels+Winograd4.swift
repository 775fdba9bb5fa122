import HutchTensorAVX2
import HutchTensorAVX512

/// 3x3 stride-1 convolution by Winograd F(4x4, 3x3) (interpolation points 0, +-1, +-2, inf):
/// each 4x4 output tile costs 36 multiplies per channel pair instead of 144 (4x fewer; F(2x2, 3x3)
/// in Kernels+Winograd saves 2.25x), as 36 products [C_out, C_in] x [C_in, tiles] on Hutch's own
/// AVX2 / AVX-512 kernels (`FixedOrderGemm`), which sum every element in one fixed order: the
/// same bits on both builds, for any thread count, chunking or probe grouping (the transforms
/// run in this baseline-x86-64 module, elementwise, in a fixed order). Needs AVX2 + FMA.
/// Float32 error against the exact convolution (Winograd4Tests): max |error| / max |y| 1.6e-6 to
/// 4.8e-6 where im2col's is 1.9e-7 to 4.1e-7 (the points +-2 amplify rounding).
extension Kernels {
    /// Whether F(4x4, 3x3) can run this geometry on this CPU (the table decides where it does).
    static func winograd4Fits(_ g: ConvGeometry) -> Bool { cpuHasAVX2FMA && winogradShapeFits(g) }

    /// U = G w G^T per (out channel, in channel), as 36 matrices [C_out, C_in] for `FixedOrderGemm`:
    /// u[xi * per + co * C_in + ci], xi = 6 * i + j, per = C_out * C_in.
    /// Runs along rows of C_in (one output channel at a time) so that it vectorizes: at 7x7 and
    /// 14x14 a scalar transform per channel pair cost as much as the products.
    static func winograd4Weights(_ g: ConvGeometry, w: UnsafePointer<Float>, into u: UnsafeMutablePointer<Float>) {
        let (cin, cout) = (g.inChannels, g.outChannels)
        let per = cout * cin
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 33 * cin) { buffer in
            let k = buffer.baseAddress!, t = k + 9 * cin, o = t + 18 * cin   // k[r][ci], t[3 i + j][ci], o[jj][ci]
            for co in 0..<cout {
                let src = w + co * cin * 9
                for ci in 0..<cin {
                    for r in 0..<9 { k[r * cin + ci] = src[ci * 9 + r] }
                }
                for j in 0..<3 {   // t = G k: column j of the kernel, six rows
                    winograd4G(k + j * cin, k + (3 + j) * cin, k + (6 + j) * cin, into: t + j * cin, rowStride: 3 * cin, count: cin)
                }
                let dst = u + co * cin
                for i in 0..<6 {   // (G k) G^T: row i of t, six columns
                    winograd4G(t + 3 * i * cin, t + (3 * i + 1) * cin, t + (3 * i + 2) * cin, into: o, rowStride: cin, count: cin)
                    for jj in 0..<6 {
                        let d = dst + (6 * i + jj) * per, r = o + jj * cin
                        d.update(from: r, count: cin)
                    }
                }
            }
        }
    }

    /// The six rows of G applied to rows a0, a1, a2 of `count` values: out[r * rowStride + c].
    @inline(__always)
    static func winograd4G(_ a0: UnsafePointer<Float>, _ a1: UnsafePointer<Float>, _ a2: UnsafePointer<Float>,
                           into out: UnsafeMutablePointer<Float>, rowStride: Int, count: Int) {
        let (o0, o1, o2) = (out, out + rowStride, out + 2 * rowStride)
        let (o3, o4, o5) = (out + 3 * rowStride, out + 4 * rowStride, out + 5 * rowStride)
        for c in 0..<count {
            (o0[c], o1[c], o2[c], o3[c], o4[c], o5[c]) = WinogradF4Matrices.g(a0[c], a1[c], a2[c])
        }
    }

    /// y[b] (+)= conv(x[b], w[b]) for a geometry `winograd4Fits`; blocks as in conv2DForward.
    /// `vectorTransforms` false runs the transforms one tile at a time (the tests' reference: the same bits).
    /// Scratch per thread beside V and M: 24 floats per tile of one example (the output plane's A^T M).
    static func winograd4Forward(
        _ g: ConvGeometry, blocks: Int,
        x: UnsafePointer<Float>, xBlockStride: Int,
        w: UnsafePointer<Float>, wBlockStride: Int,
        y: UnsafeMutablePointer<Float>, accumulate: Bool, avx512: Bool = directAVX512Enabled, vectorTransforms: Bool = true
    ) {
        precondition(winograd4Fits(g) && (!avx512 || cpuHasAVX512), "winograd4Forward: shape or CPU does not fit")
        let (n, cin, cout, oh, ow) = (g.batch, g.inChannels, g.outChannels, g.outHeight, g.outWidth)
        let (tw, th) = ((ow + 3) / 4, (oh + 3) / 4)
        let tilesPerExample = tw * th
        let p = threads   // once: a body on another thread would read that thread's budget
        // At least 64 tiles per product (the 7x7 planes have 4 per example) and about 8K / C_in
        // (the transformed input, 36 x C_in x tiles, near 1 MiB), whole examples, no fewer
        // chunks than threads. Bits do not depend on the chunk: every sum runs over C_in alone.
        let want = max(64, 8192 / cin)
        let chunk = max(1, min((n + p - 1) / p, (want + tilesPerExample - 1) / tilesPerExample))
        let chunks = (n + chunk - 1) / chunk
        let wBlocks = wBlockStride == 0 ? 1 : blocks
        let per = cout * cin
        let uCount = 36 * per
        let u = BufferPool.shared.scratch(wBlocks * uCount, of: Float.self)
        defer { BufferPool.shared.release(u, wBlocks * uCount) }
        parallelFor(wBlocks) { b in winograd4Weights(g, w: w + b * wBlockStride, into: u + b * uCount) }
        let tMax = chunk * tilesPerExample
        let rowLen = 4 * tw + 2
        let (vCount, mCount, rowsCount) = (36 * cin * tMax + FixedOrderGemm.readSlack, 36 * cout * tMax,
                                             max(12 * rowLen, 24 * tilesPerExample + 4 * tw))
        parallelFor(p) { t in
            let v = BufferPool.shared.scratch(vCount, of: Float.self), m = BufferPool.shared.scratch(mCount, of: Float.self)
            let rows = BufferPool.shared.scratch(rowsCount, of: Float.self)
            defer {
                BufferPool.shared.release(v, vCount); BufferPool.shared.release(m, mCount)
                BufferPool.shared.release(rows, rowsCount)
            }
            (v + 36 * cin * tMax).update(repeating: 0, count: FixedOrderGemm.readSlack)
            for c in stride(from: t, to: chunks, by: p) {
                let n0 = c * chunk, cn = min(chunk, n - n0), tiles = cn * tilesPerExample
                for b in 0..<blocks {
                    if b == 0 || xBlockStride != 0 {
                        winogradTileRows(g, x: x + b * xBlockStride, n0: n0, cn: cn, tiles: tiles, tilesPerExample: tilesPerExample,
                                         th: th, tw: tw, v: v) { xc, ty, vt in
                            winograd4InputRow(g, xc: xc, ty: ty, tw: tw, rowLen: rowLen, rows: rows, v: vt, xiStride: cin * tiles,
                                              vectorized: vectorTransforms)
                        }
                    }
                    let ub = u + (wBlockStride == 0 ? 0 : b) * uCount
                    for xi in 0..<36 {
                        let (ux, vx, mx) = (ub + xi * per, v + xi * cin * tiles, m + xi * cout * tiles)
                        fixedOrderMultiply(u: ux, rowStride: cin, columnStride: 1, rows: cout, k: cin, v: vx, columns: tiles, c: mx,
                                           avx512: avx512)
                    }
                    let yb = y + b * g.outputCount
                    for i in 0..<cn {
                        for co in 0..<cout {
                            winograd4OutputPlane(m: m + co * tiles + i * tilesPerExample, xiStride: cout * tiles, tw: tw, th: th,
                                                 rows: rows, dst: yb + ((n0 + i) * cout + co) * oh * ow, oh: oh, ow: ow,
                                                 accumulate: accumulate, vectorized: vectorTransforms)
                        }
                    }
                }
            }
        }
    }

    /// V = B^T d B for the tiles of one tile row of one channel; v[xi * xiStride + tx].
    /// `vectorized` runs four columns / four tiles per step (SIMD4, the same operations per
    /// element: the same bits); false, and the tile pass of rows under four tiles, one by one.
    @inline(__always)
    static func winograd4InputRow(_ g: ConvGeometry, xc: UnsafePointer<Float>, ty: Int, tw: Int, rowLen: Int,
                                  rows: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, xiStride: Int,
                                  vectorized: Bool = true) {
        winogradPaddedRows(g, xc: xc, firstRow: 4 * ty, count: 6, rowLen: rowLen, rows: rows)
        // B^T d: along the columns of the six rows
        let q = rows + 6 * rowLen
        var k = 0
        if vectorized {   // rowLen = 4 tw + 2 >= 6
            k = rowLen
            winograd4Quads(rowLen) { c in
                let a = rows + c
                let r = WinogradF4Matrices.b(SIMD4(loading: a), SIMD4(loading: a + rowLen), SIMD4(loading: a + 2 * rowLen),
                                             SIMD4(loading: a + 3 * rowLen), SIMD4(loading: a + 4 * rowLen), SIMD4(loading: a + 5 * rowLen))
                let o = q + c
                r.0.store(to: o); r.1.store(to: o + rowLen); r.2.store(to: o + 2 * rowLen)
                r.3.store(to: o + 3 * rowLen); r.4.store(to: o + 4 * rowLen); r.5.store(to: o + 5 * rowLen)
            }
        }
        while k < rowLen {
            let r = WinogradF4Matrices.b(rows[k], rows[rowLen + k], rows[2 * rowLen + k], rows[3 * rowLen + k],
                                         rows[4 * rowLen + k], rows[5 * rowLen + k])
            (q[k], q[rowLen + k], q[2 * rowLen + k], q[3 * rowLen + k], q[4 * rowLen + k], q[5 * rowLen + k]) = r
            k += 1
        }
        // (B^T d) B: tile tx reads columns 4 tx ... 4 tx + 5 of each row
        for ri in 0..<6 {
            let qr = q + ri * rowLen, d = v + 6 * ri * xiStride
            var tx = 0
            if vectorized && tw >= 4 {
                // tiles tx ... tx + 3: four rows of four columns transposed, plus the next tile's 0, 1
                tx = tw
                winograd4Quads(tw) { t in
                    let a = qr + 4 * t
                    let (c0, c1, c2, c3) = (SIMD4(loading: a), SIMD4(loading: a + 4), SIMD4(loading: a + 8), SIMD4(loading: a + 12))
                    let r = WinogradF4Matrices.b(SIMD4(c0[0], c1[0], c2[0], c3[0]), SIMD4(c0[1], c1[1], c2[1], c3[1]),
                                                 SIMD4(c0[2], c1[2], c2[2], c3[2]), SIMD4(c0[3], c1[3], c2[3], c3[3]),
                                                 SIMD4(c1[0], c2[0], c3[0], a[16]), SIMD4(c1[1], c2[1], c3[1], a[17]))
                    let o = d + t
                    r.0.store(to: o); r.1.store(to: o + xiStride); r.2.store(to: o + 2 * xiStride)
                    r.3.store(to: o + 3 * xiStride); r.4.store(to: o + 4 * xiStride); r.5.store(to: o + 5 * xiStride)
                }
            }
            while tx < tw {
                let a = qr + 4 * tx
                let r = WinogradF4Matrices.b(a[0], a[1], a[2], a[3], a[4], a[5])
                (d[tx], d[xiStride + tx], d[2 * xiStride + tx], d[3 * xiStride + tx], d[4 * xiStride + tx], d[5 * xiStride + tx]) = r
                tx += 1
            }
        }
    }

    /// Calls body(i) for i = 0, 4, 8, ... < count - 3 and, when count is not a multiple of 4, once
    /// more at count - 4, over lanes done before: its writes must be plain stores (the same values
    /// again), never sums. count >= 4.
    @inline(__always)
    static func winograd4Quads(_ count: Int, _ body: (Int) -> Void) {
        var i = 0
        while i + 4 <= count { body(i); i += 4 }
        if i < count { body(count - 4) }
    }

    /// Y = A^T M A for every tile of one output channel's plane (th x tw tiles, consecutive from m),
    /// into dst (oh x ow): four tiles per step (SIMD4, the same operations per element as
    /// `winograd4OutputRow`, which runs when `vectorized` is false or a row has under four tiles).
    @inline(__always)
    static func winograd4OutputPlane(m: UnsafePointer<Float>, xiStride: Int, tw: Int, th: Int, rows: UnsafeMutablePointer<Float>,
                                     dst: UnsafeMutablePointer<Float>, oh: Int, ow: Int, accumulate: Bool, vectorized: Bool) {
        guard vectorized && tw >= 4 else {
            for ty in 0..<th {
                winograd4OutputRow(m: m + ty * tw, xiStride: xiStride, tw: tw, rows: rows, dst: dst, ty: ty, oh: oh, ow: ow,
                                   accumulate: accumulate)
            }
            return
        }
        let tiles = tw * th
        // A^T M over the whole plane's tiles at once: s[(6 r + j) * tiles + t]
        for j in 0..<6 {
            let mj = m + j * xiStride, s = rows + j * tiles
            winograd4Quads(tiles) { t in
                let a = mj + t
                let r = WinogradF4Matrices.a(SIMD4(loading: a), SIMD4(loading: a + 6 * xiStride), SIMD4(loading: a + 12 * xiStride),
                                             SIMD4(loading: a + 18 * xiStride), SIMD4(loading: a + 24 * xiStride), SIMD4(loading: a + 30 * xiStride))
                let o = s + t
                r.0.store(to: o); r.1.store(to: o + 6 * tiles); r.2.store(to: o + 12 * tiles); r.3.store(to: o + 18 * tiles)
            }
        }
        // (A^T M) A per output row: four tiles' four outputs transposed into 16 consecutive floats of
        // e (4 tw >= ow), then e's first ow into the row, element by element as the scalar code adds them
        let e = rows + 24 * tiles
        for ty in 0..<th {
            for r in 0..<4 where 4 * ty + r < oh {
                let s = rows + 6 * r * tiles + ty * tw
                winograd4Quads(tw) { tx in
                    let a = s + tx
                    let o = WinogradF4Matrices.a(SIMD4(loading: a), SIMD4(loading: a + tiles), SIMD4(loading: a + 2 * tiles),
                                                 SIMD4(loading: a + 3 * tiles), SIMD4(loading: a + 4 * tiles), SIMD4(loading: a + 5 * tiles))
                    let c = e + 4 * tx
                    SIMD4(o.0[0], o.1[0], o.2[0], o.3[0]).store(to: c); SIMD4(o.0[1], o.1[1], o.2[1], o.3[1]).store(to: c + 4)
                    SIMD4(o.0[2], o.1[2], o.2[2], o.3[2]).store(to: c + 8); SIMD4(o.0[3], o.1[3], o.2[3], o.3[3]).store(to: c + 12)
                }
                let d = dst + (4 * ty + r) * ow
                if accumulate {
                    for k in 0..<ow { d[k] += e[k] }
                } else {
                    d.update(from: e, count: ow)
                }
            }
        }
    }

    /// Y = A^T M A for the tiles of one tile row of one output channel, written to rows 4 ty ... 4 ty + 3,
    /// one tile at a time.
    @inline(__always)
    static func winograd4OutputRow(m: UnsafePointer<Float>, xiStride: Int, tw: Int, rows: UnsafeMutablePointer<Float>,
                                   dst: UnsafeMutablePointer<Float>, ty: Int, oh: Int, ow: Int, accumulate: Bool) {
        // A^T M: s[r * 6 + j] is a row over tiles
        for j in 0..<6 {
            let mj = m + j * xiStride, s = rows + j * tw
            for tx in 0..<tw {
                let r = WinogradF4Matrices.a(mj[tx], mj[6 * xiStride + tx], mj[12 * xiStride + tx], mj[18 * xiStride + tx],
                                             mj[24 * xiStride + tx], mj[30 * xiStride + tx])
                (s[tx], s[6 * tw + tx], s[12 * tw + tx], s[18 * tw + tx]) = r
            }
        }
        for r in 0..<4 where 4 * ty + r < oh {
            let s = rows + 6 * r * tw
            let d = dst + (4 * ty + r) * ow
            for tx in 0..<tw {
                let o = WinogradF4Matrices.a(s[tx], s[tw + tx], s[2 * tw + tx], s[3 * tw + tx], s[4 * tw + tx], s[5 * tw + tx])
                let c = d + 4 * tx, live = min(4, ow - 4 * tx)
                if accumulate {
                    c[0] += o.0; if live > 1 { c[1] += o.1 }; if live > 2 { c[2] += o.2 }; if live > 3 { c[3] += o.3 }
                } else {
                    c[0] = o.0; if live > 1 { c[1] = o.1 }; if live > 2 { c[2] = o.2 }; if live > 3 { c[3] = o.3 }
                }
            }
        }
    }
}

/// Four floats at a time for the transforms above (`WinogradF4Matrices` on SIMD4).
extension SIMD4 where Scalar == Float {
    /// Four floats from p (any alignment).
    @inline(__always) init(loading p: UnsafePointer<Float>) { self = UnsafeRawPointer(p).loadUnaligned(as: Self.self) }

    /// The four floats at p (any alignment).
    @inline(__always) func store(to p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: self, as: Self.self) }
}
