/// The transforms of Winograd F(2x2, 3x3) for the per-example kernels (`WinogradTiles`): 16
/// products per 2x2 output tile and channel pair instead of 36. B and A hold only 0 and +-1, so
/// both transforms only add and subtract, along 8 tiles at a time. Window column k of 8
/// consecutive tiles is phase k % 2 of the padded input at tile offset k / 2.
public enum WinogradF2AVX2 {
    typealias V8 = SIMD8<Float>

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

    /// One vector's tiles of one output channel from their products (m[xi] at mj + xi * xiStride),
    /// A^T m A, A^T = [1 1 1 0; 0 1 -1 -1], into its plane y as `mode` says
    /// (`WinogradTiles.transformOutput` walks the vectors and channels).
    @inline(__always)
    static func transformOutput(_ s: WinogradTileShape, _ mj: UnsafePointer<Float>, _ xi: Int,
                                _ place: (row: Int, column: Int, firstNew: Int), _ y: UnsafeMutablePointer<Float>, _ mode: DirectStore) {
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
        storeTiles(s, top, bottom, place, y: y, mode: mode)
    }

    /// A vector's 2x2 outputs into one output plane, as two rows of 16 columns (row vectors: only
    /// its new tiles) or two rows of 8 per tile row (paired rows); never past OH or OW.
    @inline(__always)
    static func storeTiles(_ s: WinogradTileShape, _ top: SIMD16<Float>, _ bottom: SIMD16<Float>,
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
    @inline(__always) static func store(_ v: V8, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V8.self)
    }
}

