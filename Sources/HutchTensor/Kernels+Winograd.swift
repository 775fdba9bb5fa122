import Foundation

/// 3x3 stride-1 convolution by Winograd F(2x2, 3x3): each 2x2 output tile costs 16
/// multiplies per channel pair instead of 36 (2.25x fewer), as 16 GEMMs [C_out, C_in] x
/// [C_in, tiles]. Transforms run along whole rows of tiles so that they vectorize.
/// Chunks of examples depend on the geometry only, and block b's result is computed exactly as
/// a single-block call would (unless HUTCH_WINOGRAD_MERGE=1), so bits do not depend on probe
/// grouping or thread count.
extension Kernels {
    /// The table's Winograd rule (ConvPathTable).
    static func winogradApplies(_ g: ConvGeometry) -> Bool { ConvPathTable.host.winograd(g) }

    /// Whether the GEMM-based Winograd kernels can run this geometry at all (3x3, stride 1, no
    /// groups, as `winogradTilesShapeFits`, and at least 8 output channels and 2x2 outputs).
    static func winogradShapeFits(_ g: ConvGeometry) -> Bool {
        winogradTilesShapeFits(g) && g.outChannels >= 8 && g.outHeight >= 2 && g.outWidth >= 2
    }

    /// U = G w G^T for every (block, out channel, in channel): u[xi][b][co][ci], xi = 4*i + j, so
    /// that the 16 weight matrices of consecutive blocks stack into one GEMM operand.
    static func winogradWeights<Scalar: TensorScalar>(_ g: ConvGeometry, blocks: Int, w: UnsafePointer<Scalar>,
                                                      wBlockStride: Int, into u: UnsafeMutablePointer<Scalar>) {
        let (cin, cout) = (g.inChannels, g.outChannels)
        let step = blocks * cout * cin
        for b in 0..<blocks {
            for co in 0..<cout {
                for ci in 0..<cin {
                    let base = u + b * cout * cin + co * cin + ci
                    winogradKernel(w + b * wBlockStride + (co * cin + ci) * 9) { xi, value in base[xi * step] = value }
                }
            }
        }
    }

    /// U = G k G^T of one 3x3 kernel k (row-major), G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1]: `put(xi, U[i][j])`
    /// for xi = 4 i + j. Both F(2x2) paths transform their weights here.
    @inline(__always)
    static func winogradKernel<Scalar: TensorScalar>(_ k: UnsafePointer<Scalar>, _ put: (Int, Scalar) -> Void) {
        let half: Scalar = 0.5
        withUnsafeTemporaryAllocation(of: Scalar.self, capacity: 12) { buffer in
            let t = buffer.baseAddress!
            for j in 0..<3 {   // rows of G k (4 x 3)
                let (g0, g1, g2) = (k[j], k[3 + j], k[6 + j])
                t[j] = g0; t[3 + j] = (g0 + g1 + g2) * half; t[6 + j] = (g0 - g1 + g2) * half; t[9 + j] = g2
            }
            for i in 0..<4 {
                let (a0, a1, a2) = (t[3 * i], t[3 * i + 1], t[3 * i + 2])
                put(4 * i, a0); put(4 * i + 1, (a0 + a1 + a2) * half); put(4 * i + 2, (a0 - a1 + a2) * half); put(4 * i + 3, a2)
            }
        }
    }

    @_specialize(exported: true, where Scalar == Float) @_specialize(exported: true, where Scalar == Double)
    static func winogradForward<Scalar: TensorScalar>(
        _ g: ConvGeometry, blocks: Int,
        x: UnsafePointer<Scalar>, xBlockStride: Int,
        w: UnsafePointer<Scalar>, wBlockStride: Int,
        y: UnsafeMutablePointer<Scalar>, accumulate: Bool
    ) {
        let (n, cin, cout, oh, ow) = (g.batch, g.inChannels, g.outChannels, g.outHeight, g.outWidth)
        let (tw, th) = ((ow + 1) / 2, (oh + 1) / 2)
        let tilesPerExample = tw * th
        // about 16K/C_in tiles per chunk: the transformed input (16 x C_in x tiles) stays near 1 MiB
        let chunk = max(1, min(n, (16384 / cin + tilesPerExample - 1) / tilesPerExample))
        let chunks = (n + chunk - 1) / chunk
        let wBlocks = wBlockStride == 0 ? 1 : blocks
        let uCount = 16 * cout * cin
        // Blocks sharing x could run as one GEMM per xi with perGemm * C_out rows, as im2col does
        // (Kernels+ConvSharedInput), but measured 10 % slower at 32 channels and equal at 64 (the
        // 16 x perGemm x C_out x tiles result no longer stays in cache): HUTCH_WINOGRAD_MERGE=1.
        let perGemm = ConvPathTable.host.overrides.winogradMerge
            ? mergedBlocks(g, blocks: blocks, xBlockStride: xBlockStride, wBlockStride: wBlockStride, enabled: true) ?? 1 : 1
        let u = BufferPool.shared.scratch(wBlocks * uCount, of: Scalar.self)
        defer { BufferPool.shared.release(u, wBlocks * uCount) }
        winogradWeights(g, blocks: wBlocks, w: w, wBlockStride: wBlockStride, into: u)
        let tMax = chunk * tilesPerExample
        let rowLen = 2 * tw + 2
        let p = threads   // once: a body on another thread would read that thread's budget
        parallelFor(p) { t in
            let v = BufferPool.shared.scratch(16 * cin * tMax, of: Scalar.self)
            let m = BufferPool.shared.scratch(16 * perGemm * cout * tMax, of: Scalar.self)
            let rows = BufferPool.shared.scratch(12 * rowLen, of: Scalar.self)
            defer {
                BufferPool.shared.release(v, 16 * cin * tMax); BufferPool.shared.release(m, 16 * perGemm * cout * tMax)
                BufferPool.shared.release(rows, 12 * rowLen)
            }
            for c in stride(from: t, to: chunks, by: p) {
                let n0 = c * chunk, cn = min(chunk, n - n0), tiles = cn * tilesPerExample
                for b in stride(from: 0, to: blocks, by: perGemm) {
                    let mb = min(perGemm, blocks - b), rowsM = mb * cout
                    if b == 0 || xBlockStride != 0 {
                        winogradTileRows(g, x: x + b * xBlockStride, n0: n0, cn: cn, tiles: tiles, tilesPerExample: tilesPerExample,
                                         th: th, tw: tw, v: v) { xc, ty, vt in
                            winogradInputRow(g, xc: xc, ty: ty, tw: tw, rowLen: rowLen, rows: rows, v: vt, xiStride: cin * tiles)
                        }
                    }
                    let ub = u + (wBlockStride == 0 ? 0 : b) * cout * cin
                    for xi in 0..<16 {
                        Scalar.gemm(transA: false, transB: false, m: rowsM, n: tiles, k: cin, alpha: 1,
                                    a: ub + xi * wBlocks * cout * cin, lda: cin, b: v + xi * cin * tiles, ldb: tiles,
                                    beta: 0, c: m + xi * rowsM * tiles, ldc: tiles)
                    }
                    for bb in 0..<mb {
                        let yb = y + (b + bb) * g.outputCount
                        for i in 0..<cn {
                            for co in 0..<cout {
                                let dst = yb + ((n0 + i) * cout + co) * oh * ow
                                for ty in 0..<th {
                                    winogradOutputRow(m: m + (bb * cout + co) * tiles + i * tilesPerExample + ty * tw,
                                                      xiStride: rowsM * tiles, tw: tw, rows: rows, dst: dst, ty: ty, oh: oh,
                                                      ow: ow, accumulate: accumulate)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// V = B^T d B for the tiles of one tile row of one channel; v[xi * xiStride + tx].
    @inline(__always)
    static func winogradInputRow<Scalar: TensorScalar>(_ g: ConvGeometry, xc: UnsafePointer<Scalar>, ty: Int, tw: Int,
                                                       rowLen: Int, rows: UnsafeMutablePointer<Scalar>,
                                                       v: UnsafeMutablePointer<Scalar>, xiStride: Int) {
        winogradPaddedRows(g, xc: xc, firstRow: 2 * ty, count: 4, rowLen: rowLen, rows: rows)
        // B^T d: rows
        let (p0, p1, p2, p3) = (rows, rows + rowLen, rows + 2 * rowLen, rows + 3 * rowLen)
        let (q0, q1, q2, q3) = (rows + 4 * rowLen, rows + 5 * rowLen, rows + 6 * rowLen, rows + 7 * rowLen)
        for k in 0..<rowLen {
            let (a0, a1, a2, a3) = (p0[k], p1[k], p2[k], p3[k])
            q0[k] = a0 - a2; q1[k] = a1 + a2; q2[k] = a2 - a1; q3[k] = a1 - a3
        }
        // (B^T d) B: columns. Each row is split into even and odd columns first, so that tile
        // tx reads e[tx], o[tx], e[tx+1], o[tx+1] from contiguous memory.
        let half = tw + 1
        for ri in 0..<4 {
            let q = rows + (4 + ri) * rowLen
            let e = rows + (8 + ri) * rowLen, o = e + half
            deinterleave(q, even: e, odd: o, count: half)
            let (d0, d1, d2, d3) = (v + 4 * ri * xiStride, v + (4 * ri + 1) * xiStride,
                                    v + (4 * ri + 2) * xiStride, v + (4 * ri + 3) * xiStride)
            for tx in 0..<tw {
                let (a0, a1, a2, a3) = (e[tx], o[tx], e[tx + 1], o[tx + 1])
                d0[tx] = a0 - a2; d1[tx] = a1 + a2; d2[tx] = a2 - a1; d3[tx] = a1 - a3
            }
        }
    }

    /// Calls row(xc, ty, vt) for every tile row ty of every channel of examples n0 ..< n0 + cn: xc
    /// the channel's input plane, vt where that row's tiles go in the transformed input (channel
    /// ch's tiles at ch * tiles, example i's at i * tilesPerExample); for either tile size.
    @inline(__always)
    static func winogradTileRows<Scalar>(_ g: ConvGeometry, x: UnsafePointer<Scalar>, n0: Int, cn: Int, tiles: Int,
                                         tilesPerExample: Int, th: Int, tw: Int, v: UnsafeMutablePointer<Scalar>,
                                         _ row: (UnsafePointer<Scalar>, Int, UnsafeMutablePointer<Scalar>) -> Void) {
        let (cin, plane) = (g.inChannels, g.inHeight * g.inWidth)
        for i in 0..<cn {
            for ch in 0..<cin {
                let xc = x + ((n0 + i) * cin + ch) * plane
                for ty in 0..<th { row(xc, ty, v + ch * tiles + i * tilesPerExample + ty * tw) }
            }
        }
    }

    /// rows[r * rowLen + k] = the zero-padded input at row firstRow + r - padTop, column k - padLeft,
    /// for r < count, k < rowLen: one tile row's input, for either tile size.
    @inline(__always)
    static func winogradPaddedRows<Scalar: TensorScalar>(_ g: ConvGeometry, xc: UnsafePointer<Scalar>, firstRow: Int, count: Int,
                                                         rowLen: Int, rows: UnsafeMutablePointer<Scalar>) {
        let (h, wd, pl) = (g.inHeight, g.inWidth, g.padLeft)
        let lo = min(rowLen, pl), hi = max(lo, min(rowLen, wd + pl))
        for r in 0..<count {
            let iy = firstRow + r - g.padTop
            let pr = rows + r * rowLen
            if iy < 0 || iy >= h { pr.update(repeating: 0, count: rowLen); continue }
            if lo > 0 { pr.update(repeating: 0, count: lo) }
            (pr + lo).update(from: xc + iy * wd + lo - pl, count: hi - lo)
            if hi < rowLen { (pr + hi).update(repeating: 0, count: rowLen - hi) }
        }
    }

    /// Y = A^T M A for the tiles of one tile row of one output channel, written to rows 2ty, 2ty+1.
    @inline(__always)
    static func winogradOutputRow<Scalar: TensorScalar>(m: UnsafePointer<Scalar>, xiStride: Int, tw: Int,
                                                        rows: UnsafeMutablePointer<Scalar>, dst: UnsafeMutablePointer<Scalar>,
                                                        ty: Int, oh: Int, ow: Int, accumulate: Bool) {
        // A^T M: s0_j = m0j + m1j + m2j, s1_j = m1j - m2j - m3j, each a row over tiles
        for j in 0..<4 {
            let (m0, m1, m2, m3) = (m + j * xiStride, m + (4 + j) * xiStride, m + (8 + j) * xiStride, m + (12 + j) * xiStride)
            let (s0, s1) = (rows + j * tw, rows + (4 + j) * tw)
            for tx in 0..<tw {
                let (a1, a2) = (m1[tx], m2[tx])
                s0[tx] = m0[tx] + a1 + a2; s1[tx] = a1 - a2 - m3[tx]
            }
        }
        let even = rows + 8 * tw, odd = rows + 9 * tw
        for r in 0..<2 where 2 * ty + r < oh {
            let (c0, c1, c2, c3) = (rows + 4 * r * tw, rows + (4 * r + 1) * tw, rows + (4 * r + 2) * tw, rows + (4 * r + 3) * tw)
            for tx in 0..<tw {
                let (a1, a2) = (c1[tx], c2[tx])
                even[tx] = c0[tx] + a1 + a2; odd[tx] = a1 - a2 - c3[tx]
            }
            let d = dst + (2 * ty + r) * ow
            let pairs = ow / 2
            interleave(even: even, odd: odd, pairs: pairs, into: d, accumulate: accumulate)
            if ow % 2 == 1 {
                if accumulate { d[ow - 1] += even[pairs] } else { d[ow - 1] = even[pairs] }
            }
        }
    }

    /// e[k] = q[2k], o[k] = q[2k+1] for k < count; Float by 8-lane SIMD shuffles (the scalar
    /// loop does not vectorize). The same values either way.
    @inline(__always)
    static func deinterleave<Scalar: TensorScalar>(_ q: UnsafePointer<Scalar>, even e: UnsafeMutablePointer<Scalar>,
                                                   odd o: UnsafeMutablePointer<Scalar>, count: Int) {
        var k = 0
        if Scalar.self == Float.self {
            let qr = UnsafeRawPointer(q), er = UnsafeMutableRawPointer(e), or = UnsafeMutableRawPointer(o)
            while k + 4 <= count {
                let v = qr.loadUnaligned(fromByteOffset: 8 * k, as: SIMD8<Float>.self)
                er.storeBytes(of: v.evenHalf, toByteOffset: 4 * k, as: SIMD4<Float>.self)
                or.storeBytes(of: v.oddHalf, toByteOffset: 4 * k, as: SIMD4<Float>.self)
                k += 4
            }
        }
        while k < count { e[k] = q[2 * k]; o[k] = q[2 * k + 1]; k += 1 }
    }

    /// d[2t] (+)= even[t], d[2t+1] (+)= odd[t] for t < pairs; Float by SIMD shuffles.
    @inline(__always)
    static func interleave<Scalar: TensorScalar>(even: UnsafePointer<Scalar>, odd: UnsafePointer<Scalar>, pairs: Int,
                                                 into d: UnsafeMutablePointer<Scalar>, accumulate: Bool) {
        var t = 0
        if Scalar.self == Float.self {
            let dr = UnsafeMutableRawPointer(d), er = UnsafeRawPointer(even), or = UnsafeRawPointer(odd)
            while t + 4 <= pairs {
                var v = SIMD8<Float>()
                v.evenHalf = er.loadUnaligned(fromByteOffset: 4 * t, as: SIMD4<Float>.self)
                v.oddHalf = or.loadUnaligned(fromByteOffset: 4 * t, as: SIMD4<Float>.self)
                if accumulate { v = dr.loadUnaligned(fromByteOffset: 8 * t, as: SIMD8<Float>.self) + v }
                dr.storeBytes(of: v, toByteOffset: 8 * t, as: SIMD8<Float>.self)
                t += 4
            }
        }
        if accumulate {
            while t < pairs { d[2 * t] += even[t]; d[2 * t + 1] += odd[t]; t += 1 }
        } else {
            while t < pairs { d[2 * t] = even[t]; d[2 * t + 1] = odd[t]; t += 1 }
        }
    }
}
