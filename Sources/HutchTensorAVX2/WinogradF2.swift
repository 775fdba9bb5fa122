/// Winograd F(2x2, 3x3) for 3x3 stride-1 convolutions, compiled for AVX2 + FMA, one example at a
/// time: 16 products per 2x2 output tile and channel pair instead of 36. Its products use the
/// direct kernel's register tile (4 output channels x 3 vectors of 8 tiles, FMAs over the input
/// channels), so at ResNet-20's 16-64 channels they run at the direct kernel's rate on 2.25x
/// fewer multiply-adds; the transforms only add and subtract (B and A are 0 / +-1) along 8 tiles
/// at a time.
///
/// Bits: M[xi][co][t] = sum over ci in order of U[xi][co][ci] * V[xi][ci][t], an FMA chain from
/// zero, and both transforms are the same adds in a fixed order for every tile, so an output
/// depends on nothing but the example, the weights and the shape: not on the slab, the tile's
/// vector, the thread or the other blocks of a call.
///
/// Layout: the input is padded and split into even and odd columns (`padPhases`: the stride-2
/// layout of `DirectConvShape`), so that the four window columns of 8 consecutive tiles are four
/// plain loads (phase 0, 1, 0, 1 at tile offsets 0, 0, 1, 1); each input float is shuffled once,
/// there, not in every window that reads it. Tiles go 8 to a vector along a tile row when it
/// holds 5 or more (the last vector of a row overlaps the one before and stores only its new
/// tiles, as `PlaneVectors` does; lanes past a shorter row read the padded input past it and are
/// never stored), else 4 from each of two tile rows (`pairedRows`: 7x7 and 8x8 planes).
public struct WinogradF2Shape: Sendable, Equatable {
    public let inChannels: Int, outChannels: Int
    public let outHeight: Int, outWidth: Int
    /// Tile rows and columns (ceil(OH / 2), ceil(OW / 2)).
    public let tileRows: Int, tileColumns: Int
    /// The padded input's shape: 4x4 windows at stride 2, one per tile.
    public let padded: DirectConvShape

    public init(inChannels: Int, inHeight: Int, inWidth: Int, outChannels: Int, padTop: Int, padLeft: Int,
                outHeight: Int, outWidth: Int) {
        self.inChannels = inChannels; self.outChannels = outChannels
        self.outHeight = outHeight; self.outWidth = outWidth
        tileRows = (outHeight + 1) / 2; tileColumns = (outWidth + 1) / 2
        padded = DirectConvShape(inChannels: inChannels, inHeight: inHeight, inWidth: inWidth, outChannels: outChannels,
                                 kernelHeight: 4, kernelWidth: 4, strideH: 2, strideW: 2, padTop: padTop, padLeft: padLeft,
                                 outHeight: tileRows, outWidth: tileColumns)
    }

    /// Whether a vector holds 4 tiles of each of two tile rows (rows of at most 4 tiles).
    public var pairedRows: Bool { tileColumns <= 4 }
    public var vectorsPerRow: Int { (tileColumns + 7) / 8 }
    /// Vectors of 8 tiles per example.
    public var vectors: Int { pairedRows ? (tileRows + 1) / 2 : tileRows * vectorsPerRow }
    /// Floats of the transformed weights: [xi][C_out / 4 rounded up][C_in][4].
    public var packedWeightCount: Int { 16 * ((outChannels + 3) / 4) * 4 * inChannels }
    /// Tile vectors per slab: the transformed input of a slab, 16 x C_in x 8 x slabVectors floats,
    /// stays in L2 (48 KB at 16 channels, 192 KB at 64) and under 4 examples' inputs on small
    /// planes (the chunk bound's kernel scratch). Three register tiles of 8 lanes, or of 16; a
    /// slab's last vectors are transformed up to an even count (a copy of the last).
    public var slabVectors: Int { min(6, vectors + vectors % 2) }
    /// Scratch floats per thread: the transformed input and products of one slab.
    public var slabInputCount: Int { 16 * inChannels * 8 * slabVectors }
    public var slabProductCount: Int { 16 * 4 * 8 * slabVectors }

    /// Where vector `v` sits: its first tile row and column, and the lane of its first tile not
    /// already stored by the vector before it (rows of 8 or more tiles).
    @inline(__always)
    func place(_ v: Int) -> (row: Int, column: Int, firstNew: Int) {
        if pairedRows { return (2 &* v, 0, 0) }
        let (ty, i) = (v / vectorsPerRow, v % vectorsPerRow)
        let tx = tileColumns >= 8 ? min(8 &* i, tileColumns &- 8) : 0
        return (ty, tx, 8 &* i &- tx)
    }
}

public enum WinogradF2AVX2 {
    typealias V8 = SIMD8<Float>

    /// One example x [C_in, H, W] into the padded, phase-split layout of `s.padded`
    /// (`paddedCount` floats): padded row r, phase q, index j holds x[ci][r - padTop][2 j + q - padLeft],
    /// zero outside x. A row is zeroed, then each 16 floats of the input row are loaded once, their
    /// even columns stored to one phase and their odd columns to the other.
    @inline(never)
    public static func padPhases(_ s: WinogradF2Shape, x: UnsafePointer<Float>, into padded: UnsafeMutablePointer<Float>) {
        let p = s.padded
        let (h, w, half, left) = (p.inHeight, p.inWidth, p.phaseLength, p.padLeft)
        // input column c goes to phase (c + left) % 2, index (c + left) / 2
        let (evenPhase, evenFirst) = (left % 2, left / 2), (oddPhase, oddFirst) = ((left + 1) % 2, (left + 1) / 2)
        DirectConvAVX2.zero(padded + p.inChannels &* p.channelStride, DirectConvShape.readSlack)
        for ci in 0..<p.inChannels {
            var row = padded + ci &* p.channelStride
            for r in 0..<p.paddedHeight {
                DirectConvAVX2.zero(row, p.rowStride)
                let iy = r &- p.padTop
                if iy >= 0 && iy < h {
                    let xr = x + (ci &* h &+ iy) &* w
                    let (even, odd) = (row + (evenPhase &* half &+ evenFirst), row + (oddPhase &* half &+ oddFirst))
                    var c = 0
                    while c &+ 16 <= w {
                        let v = UnsafeRawPointer(xr + c).loadUnaligned(as: SIMD16<Float>.self)
                        store(v.evenHalf, even + c / 2); store(v.oddHalf, odd + c / 2)
                        c &+= 16
                    }
                    while c < w {
                        if c & 1 == 0 { even[c / 2] = xr[c] } else { odd[c / 2] = xr[c] }
                        c &+= 1
                    }
                }
                row += p.rowStride
            }
        }
    }

    /// One example's padded input (`padPhases`), tile vectors
    /// `first..<first + count`, into v[xi][ci][8 * j] (j the vector's place in the slab).
    @inline(never)
    public static func transformInput(_ s: WinogradF2Shape, padded: UnsafePointer<Float>, first: Int, count: Int,
                                      into v: UnsafeMutablePointer<Float>) {
        let p = s.padded
        let (columns, rowStride, half) = (8 &* count, p.rowStride, p.phaseLength)
        let xiStride = s.inChannels &* columns
        for j in 0..<count {
            let (ty, tx, _) = s.place(min(first &+ j, s.vectors &- 1))   // past the last: a copy, never stored
            // a paired vector's second tile row (the last row again past the end: never stored)
            let pair = (min(ty &+ 1, s.tileRows &- 1) &- ty) &* 2 &* rowStride
            var src = padded + (2 &* ty &* rowStride &+ tx), out = v + 8 &* j
            for _ in 0..<s.inChannels {
                if s.pairedRows {
                    transformWindow(src, rowStride, half, out, xiStride) { q in V8(lowHalf: load4(q), highHalf: load4(q + pair)) }
                } else {
                    transformWindow(src, rowStride, half, out, xiStride) { q in load(q) }
                }
                src += p.channelStride; out += columns
            }
        }
    }

    /// V = B^T d B of one channel's 8 windows (4x4 at src, rows `rowStride` apart, odd columns
    /// `half` after the even ones; `load` reads 8 tiles' values from one of them),
    /// B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]: along each row, then down the columns;
    /// V[4 i + c] at out + (4 i + c) * xiStride.
    @inline(__always)
    static func transformWindow(_ src: UnsafePointer<Float>, _ rowStride: Int, _ half: Int, _ out: UnsafeMutablePointer<Float>,
                                _ xiStride: Int, _ load: (UnsafePointer<Float>) -> V8) {
        @inline(__always) func row(_ q: UnsafePointer<Float>) -> (V8, V8, V8, V8) {
            let (c0, c1, c2, c3) = (load(q), load(q + half), load(q + 1), load(q + half + 1))
            return (c0 - c2, c1 + c2, c2 - c1, c1 - c3)
        }
        let (a0, a1, a2, a3) = row(src), (b0, b1, b2, b3) = row(src + rowStride)
        let (c0, c1, c2, c3) = row(src + 2 &* rowStride), (d0, d1, d2, d3) = row(src + 3 &* rowStride)
        @inline(__always) func put(_ c: Int, _ r0: V8, _ r1: V8, _ r2: V8, _ r3: V8) {
            store(r0 - r2, out + c &* xiStride); store(r1 + r2, out + (4 &+ c) &* xiStride)
            store(r2 - r1, out + (8 &+ c) &* xiStride); store(r1 - r3, out + (12 &+ c) &* xiStride)
        }
        put(0, a0, b0, c0, d0); put(1, a1, b1, c1, d1); put(2, a2, b2, c2, d2); put(3, a3, b3, c3, d3)
    }

    /// Products of output channels `4 * block ..< 4 * block + 4` for the slab's `count` vectors
    /// (`WinogradF2Products.multiply` on 8 lanes).
    @inline(never)
    public static func multiply(_ s: WinogradF2Shape, u: UnsafePointer<Float>, block: Int, v: UnsafePointer<Float>,
                                count: Int, m: UnsafeMutablePointer<Float>) {
        WinogradF2Products.multiply(s, u: u, block: block, v: v, count: count, m: m, as: SIMD8<Float>.self)
    }

    /// The same products on 16 lanes compiled for AVX2: the AVX-512 build's code at its width, so
    /// that a machine without AVX-512 still tests its lanes and layout (`count` even).
    @inline(never)
    public static func multiplySixteenLanes(_ s: WinogradF2Shape, u: UnsafePointer<Float>, block: Int, v: UnsafePointer<Float>,
                                            count: Int, m: UnsafeMutablePointer<Float>) {
        WinogradF2Products.multiply(s, u: u, block: block, v: v, count: count, m: m, as: SIMD16<Float>.self)
    }

    /// Output channels `4 * block ..< ` (up to 4) of the slab's first `stored` vectors (of `count`
    /// in m's layout) from their products,
    /// A^T m A, A^T = [1 1 1 0; 0 1 -1 -1], into y (C_out planes of OH x OW) as `mode` says.
    @inline(never)
    public static func transformOutput(_ s: WinogradF2Shape, m: UnsafePointer<Float>, block: Int, first: Int, count: Int,
                                       stored: Int, y: UnsafeMutablePointer<Float>, mode: DirectStore) {
        let columns = 8 &* count
        let (plane, xi) = (s.outHeight &* s.outWidth, 4 &* columns)
        let channels = min(4, s.outChannels &- 4 &* block)
        for j in 0..<stored {
            let place = s.place(first &+ j)   // once per vector: a division
            for c in 0..<channels {
                let mj = m + (c &* columns &+ 8 &* j)
                // down the columns (m[4 i + col] for i = 0...3), then along the rows
                @inline(__always) func column(_ col: Int) -> (V8, V8) {
                    let (m0, m1, m2, m3) = (load(mj + col &* xi), load(mj + (4 &+ col) &* xi),
                                            load(mj + (8 &+ col) &* xi), load(mj + (12 &+ col) &* xi))
                    return ((m0 + m1) + m2, (m1 - m2) - m3)
                }
                let (q00, q10) = column(0), (q01, q11) = column(1), (q02, q12) = column(2), (q03, q13) = column(3)
                var top = SIMD16<Float>(), bottom = SIMD16<Float>()   // output rows 0 and 1 of the tiles, interleaved
                top.evenHalf = (q00 + q01) + q02; top.oddHalf = (q01 - q02) - q03
                bottom.evenHalf = (q10 + q11) + q12; bottom.oddHalf = (q11 - q12) - q13
                storeTiles(s, top, bottom, place, y: y + (4 &* block &+ c) &* plane, mode: mode)
            }
        }
    }

    /// A vector's 2x2 outputs into one output plane, as two rows of 16 columns (row vectors: only
    /// its new tiles) or two rows of 8 per tile row (paired rows); never past OH or OW.
    @inline(__always)
    static func storeTiles(_ s: WinogradF2Shape, _ top: SIMD16<Float>, _ bottom: SIMD16<Float>,
                           _ place: (row: Int, column: Int, firstNew: Int), y: UnsafeMutablePointer<Float>, mode: DirectStore) {
        let (oh, ow) = (s.outHeight, s.outWidth)
        let (ty, tx, firstNew) = place
        let (oy, ox) = (2 &* ty, 2 &* tx)
        if !s.pairedRows {
            let lanes = (2 &* firstNew) &* 256 &+ min(16, ow &- ox)
            DirectVectors.store(top, y + (oy &* ow &+ ox), mode, lanes: lanes)
            if oy &+ 1 < oh { DirectVectors.store(bottom, y + ((oy &+ 1) &* ow &+ ox), mode, lanes: lanes) }
            return
        }
        let lanes = min(8, ow)
        DirectVectors.store(top.lowHalf, y + oy &* ow, mode, lanes: lanes)
        if oy &+ 1 < oh { DirectVectors.store(bottom.lowHalf, y + (oy &+ 1) &* ow, mode, lanes: lanes) }
        if oy &+ 2 < oh { DirectVectors.store(top.highHalf, y + (oy &+ 2) &* ow, mode, lanes: lanes) }
        if oy &+ 3 < oh { DirectVectors.store(bottom.highHalf, y + (oy &+ 3) &* ow, mode, lanes: lanes) }
    }

    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> V8 { DirectVectors.load(p) }
    @inline(__always) static func load4(_ p: UnsafePointer<Float>) -> SIMD4<Float> { DirectVectors.load(p) }
    @inline(__always) static func store(_ v: V8, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V8.self)
    }
}

/// The products of F(2x2, 3x3) at vector width V (SIMD8 for AVX2, SIMD16 for AVX-512):
/// m[xi][c][col] = sum over ci in order of u[xi][block][ci][c] * v[xi][ci][col], an FMA chain from
/// zero per element, so every width gives the same bits. The direct kernel's register tile: 4
/// output channels x 3 vectors, each step 3 loads, 4 broadcasts and 12 FMAs over the input
/// channels; 2 vectors (8 accumulators keep both FMA pipes busy) or 1 at a slab's end.
/// `@inlinable` and always inlined, so that each module compiles it for its own CPU.
public enum WinogradF2Products {
    /// `count` 8-tile vectors (a multiple of V's width / 8) of v [xi][ci][8 * count] into m [xi][4][8 * count].
    @inlinable @inline(__always)
    public static func multiply<V: SIMD>(_ s: WinogradF2Shape, u: UnsafePointer<Float>, block: Int, v: UnsafePointer<Float>,
                                         count: Int, m: UnsafeMutablePointer<Float>, as: V.Type) where V.Scalar == Float {
        let (cin, columns, lanes) = (s.inChannels, 8 &* count, V.scalarCount)
        let vectors = columns / lanes
        let blocks = (s.outChannels &+ 3) / 4
        for xi in 0..<16 {
            let w = u + (xi &* blocks &+ block) &* cin &* 4
            let (vx, mx) = (v + xi &* cin &* columns, m + xi &* 4 &* columns)
            var j = 0
            while j &+ 3 <= vectors {
                tile3(vx + j &* lanes, columns, w, cin, mx + j &* lanes, columns, as: V.self)
                j &+= 3
            }
            if vectors &- j == 2 {
                tile2(vx + j &* lanes, columns, w, cin, mx + j &* lanes, columns, as: V.self)
            } else if vectors &- j == 1 {
                tile1(vx + j &* lanes, columns, w, cin, mx + j &* lanes, columns, as: V.self)
            }
        }
    }

    @inlinable @inline(__always) @usableFromInline
    static func put<V: SIMD>(_ a: V, _ p: UnsafeMutablePointer<Float>) where V.Scalar == Float {
        UnsafeMutableRawPointer(p).storeBytes(of: a, as: V.self)
    }

    /// 4 channels x 3 vectors: m[c * mStride + q * lanes + l] = sum over ci of w[4 ci + c] * v[ci * vStride + q * lanes + l].
    @inlinable @inline(__always) @usableFromInline
    static func tile3<V: SIMD>(_ v: UnsafePointer<Float>, _ vStride: Int, _ w: UnsafePointer<Float>, _ cin: Int,
                               _ m: UnsafeMutablePointer<Float>, _ mStride: Int, as: V.Type) where V.Scalar == Float {
        let n = V.scalarCount
        var a00 = V(), a01 = V(), a02 = V(), a10 = V(), a11 = V(), a12 = V()
        var a20 = V(), a21 = V(), a22 = V(), a30 = V(), a31 = V(), a32 = V()
        var (x, wp) = (v, w)
        for _ in 0..<cin {
            let v0: V = DirectVectors.load(x), v1: V = DirectVectors.load(x + n), v2: V = DirectVectors.load(x + 2 &* n)
            let w0 = V(repeating: wp[0])
            a00 = a00.addingProduct(v0, w0); a01 = a01.addingProduct(v1, w0); a02 = a02.addingProduct(v2, w0)
            let w1 = V(repeating: wp[1])
            a10 = a10.addingProduct(v0, w1); a11 = a11.addingProduct(v1, w1); a12 = a12.addingProduct(v2, w1)
            let w2 = V(repeating: wp[2])
            a20 = a20.addingProduct(v0, w2); a21 = a21.addingProduct(v1, w2); a22 = a22.addingProduct(v2, w2)
            let w3 = V(repeating: wp[3])
            a30 = a30.addingProduct(v0, w3); a31 = a31.addingProduct(v1, w3); a32 = a32.addingProduct(v2, w3)
            x += vStride; wp += 4
        }
        let (m1, m2, m3) = (m + mStride, m + 2 &* mStride, m + 3 &* mStride)
        put(a00, m); put(a01, m + n); put(a02, m + 2 &* n)
        put(a10, m1); put(a11, m1 + n); put(a12, m1 + 2 &* n)
        put(a20, m2); put(a21, m2 + n); put(a22, m2 + 2 &* n)
        put(a30, m3); put(a31, m3 + n); put(a32, m3 + 2 &* n)
    }

    /// 4 channels x 2 vectors: `tile3`'s sums.
    @inlinable @inline(__always) @usableFromInline
    static func tile2<V: SIMD>(_ v: UnsafePointer<Float>, _ vStride: Int, _ w: UnsafePointer<Float>, _ cin: Int,
                               _ m: UnsafeMutablePointer<Float>, _ mStride: Int, as: V.Type) where V.Scalar == Float {
        let n = V.scalarCount
        var a00 = V(), a01 = V(), a10 = V(), a11 = V(), a20 = V(), a21 = V(), a30 = V(), a31 = V()
        var (x, wp) = (v, w)
        for _ in 0..<cin {
            let v0: V = DirectVectors.load(x), v1: V = DirectVectors.load(x + n)
            let w0 = V(repeating: wp[0]), w1 = V(repeating: wp[1]), w2 = V(repeating: wp[2]), w3 = V(repeating: wp[3])
            a00 = a00.addingProduct(v0, w0); a01 = a01.addingProduct(v1, w0); a10 = a10.addingProduct(v0, w1)
            a11 = a11.addingProduct(v1, w1); a20 = a20.addingProduct(v0, w2); a21 = a21.addingProduct(v1, w2)
            a30 = a30.addingProduct(v0, w3); a31 = a31.addingProduct(v1, w3)
            x += vStride; wp += 4
        }
        let (m1, m2, m3) = (m + mStride, m + 2 &* mStride, m + 3 &* mStride)
        put(a00, m); put(a01, m + n); put(a10, m1); put(a11, m1 + n)
        put(a20, m2); put(a21, m2 + n); put(a30, m3); put(a31, m3 + n)
    }

    /// 4 channels x 1 vector: `tile3`'s sums.
    @inlinable @inline(__always) @usableFromInline
    static func tile1<V: SIMD>(_ v: UnsafePointer<Float>, _ vStride: Int, _ w: UnsafePointer<Float>, _ cin: Int,
                               _ m: UnsafeMutablePointer<Float>, _ mStride: Int, as: V.Type) where V.Scalar == Float {
        var a0 = V(), a1 = V(), a2 = V(), a3 = V()
        var (x, wp) = (v, w)
        for _ in 0..<cin {
            let v0: V = DirectVectors.load(x)
            a0 = a0.addingProduct(v0, V(repeating: wp[0])); a1 = a1.addingProduct(v0, V(repeating: wp[1]))
            a2 = a2.addingProduct(v0, V(repeating: wp[2])); a3 = a3.addingProduct(v0, V(repeating: wp[3]))
            x += vStride; wp += 4
        }
        put(a0, m); put(a1, m + mStride); put(a2, m + 2 &* mStride); put(a3, m + 3 &* mStride)
    }
}
