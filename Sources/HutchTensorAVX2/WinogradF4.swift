/// The matrices of Winograd F(4x4, 3x3) (interpolation points 0, +-1, +-2, inf), for any lane
/// type: one expression tree for the GEMM-based F(4x4) (Kernels+Winograd4, on one Float or SIMD4)
/// and the per-example one (`WinogradF4AVX2`, on SIMD8), so a lane of any width runs the same
/// IEEE operations in the same order as the scalar code.
public protocol WinogradLane {
    init(splat: Float)
    static func + (a: Self, b: Self) -> Self
    static func - (a: Self, b: Self) -> Self
    static func * (a: Self, b: Self) -> Self
    prefix static func - (a: Self) -> Self
}

extension Float: WinogradLane {
    @inlinable @inline(__always) public init(splat x: Float) { self = x }
}

extension SIMD4: WinogradLane where Scalar == Float {
    @inlinable @inline(__always) public init(splat x: Float) { self.init(repeating: x) }
}

extension SIMD8: WinogradLane where Scalar == Float {
    @inlinable @inline(__always) public init(splat x: Float) { self.init(repeating: x) }
}

public enum WinogradF4Matrices {
    /// B^T applied to (a0 ... a5): the same six sums for rows and for columns.
    @inlinable @inline(__always)
    public static func b<T: WinogradLane>(_ a0: T, _ a1: T, _ a2: T, _ a3: T, _ a4: T, _ a5: T) -> (T, T, T, T, T, T) {
        let (four, five, two) = (T(splat: 4), T(splat: 5), T(splat: 2))
        return (four * a0 - five * a2 + a4, (a3 + a4) - four * (a1 + a2), four * (a1 - a2) + (a4 - a3),
                two * (a3 - a1) + (a4 - a2), two * (a1 - a3) + (a4 - a2), four * a1 - five * a3 + a5)
    }

    /// A^T applied to (m0 ... m5).
    @inlinable @inline(__always)
    public static func a<T: WinogradLane>(_ m0: T, _ m1: T, _ m2: T, _ m3: T, _ m4: T, _ m5: T) -> (T, T, T, T) {
        let (p12, d12, p34, d34) = (m1 + m2, m1 - m2, m3 + m4, m3 - m4)
        let (two, four, eight) = (T(splat: 2), T(splat: 4), T(splat: 8))
        return (m0 + p12 + p34, d12 + two * d34, p12 + four * p34, d12 + eight * d34 + m5)
    }

    /// The six rows of G applied to (x0, x1, x2), G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6;
    /// 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1].
    @inlinable @inline(__always)
    public static func g<T: WinogradLane>(_ x0: T, _ x1: T, _ x2: T) -> (T, T, T, T, T, T) {
        let (quarter, sixth, twelfth, twentyFourth) = (T(splat: 0.25), T(splat: 1.0 / 6), T(splat: 1.0 / 12), T(splat: 1.0 / 24))
        let (even, odd) = (x0 * twentyFourth + x2 * sixth, x1 * twelfth)
        return (x0 * quarter, -((x0 + x1 + x2) * sixth), -((x0 - x1 + x2) * sixth), even + odd, even - odd, x2)
    }

    /// U = G k G^T of one 3x3 kernel k (row-major): `put(xi, U[i][j])` for xi = 6 i + j.
    @inlinable @inline(__always)
    public static func kernel(_ k: UnsafePointer<Float>, _ put: (Int, Float) -> Void) {
        let c0 = g(k[0], k[3], k[6]), c1 = g(k[1], k[4], k[7]), c2 = g(k[2], k[5], k[8])   // G k, by columns
        @inline(__always) func row(_ i: Int, _ a0: Float, _ a1: Float, _ a2: Float) {
            let r = g(a0, a1, a2)
            put(6 * i, r.0); put(6 * i + 1, r.1); put(6 * i + 2, r.2); put(6 * i + 3, r.3); put(6 * i + 4, r.4); put(6 * i + 5, r.5)
        }
        row(0, c0.0, c1.0, c2.0); row(1, c0.1, c1.1, c2.1); row(2, c0.2, c1.2, c2.2)
        row(3, c0.3, c1.3, c2.3); row(4, c0.4, c1.4, c2.4); row(5, c0.5, c1.5, c2.5)
    }
}

/// The transforms of Winograd F(4x4, 3x3) for the per-example kernels (`WinogradTiles`): 36
/// products per 4x4 output tile and channel pair instead of 144. Window column k of 8
/// consecutive tiles is phase k % 4 of the padded input at tile offset k / 4. Float32 error is
/// about 15x F(2x2)'s (the points +-2 amplify rounding; WinogradTilesTests bounds both).
public enum WinogradF4AVX2 {
    typealias V8 = SIMD8<Float>

    /// V = B^T d B of one channel's 8 windows (6x6 at src, rows `rowStride` apart, phases `phase`
    /// apart); V[6 i + j] at out + (6 i + j) * xiStride. Along each row, then down the columns.
    @inline(__always)
    static func transformWindow(_ src: UnsafePointer<Float>, _ rowStride: Int, _ phase: Int, _ out: UnsafeMutablePointer<Float>,
                                _ xiStride: Int, _ load: (UnsafePointer<Float>) -> V8) {
        @inline(__always) func row(_ r: Int) -> (V8, V8, V8, V8, V8, V8) {
            let q = src + r &* rowStride
            return WinogradF4Matrices.b(load(q), load(q + phase), load(q + 2 &* phase), load(q + 3 &* phase),
                                        load(q + 1), load(q + (phase &+ 1)))
        }
        let r0 = row(0), r1 = row(1), r2 = row(2), r3 = row(3), r4 = row(4), r5 = row(5)
        @inline(__always) func column(_ j: Int, _ a0: V8, _ a1: V8, _ a2: V8, _ a3: V8, _ a4: V8, _ a5: V8) {
            let c = WinogradF4Matrices.b(a0, a1, a2, a3, a4, a5)
            WinogradTiles.store(c.0, out + j &* xiStride); WinogradTiles.store(c.1, out + (6 &+ j) &* xiStride)
            WinogradTiles.store(c.2, out + (12 &+ j) &* xiStride); WinogradTiles.store(c.3, out + (18 &+ j) &* xiStride)
            WinogradTiles.store(c.4, out + (24 &+ j) &* xiStride); WinogradTiles.store(c.5, out + (30 &+ j) &* xiStride)
        }
        column(0, r0.0, r1.0, r2.0, r3.0, r4.0, r5.0); column(1, r0.1, r1.1, r2.1, r3.1, r4.1, r5.1)
        column(2, r0.2, r1.2, r2.2, r3.2, r4.2, r5.2); column(3, r0.3, r1.3, r2.3, r3.3, r4.3, r5.3)
        column(4, r0.4, r1.4, r2.4, r3.4, r4.4, r5.4); column(5, r0.5, r1.5, r2.5, r3.5, r4.5, r5.5)
    }

    /// One vector's tiles of one output channel from their products (m[xi] at mj + xi * xiStride),
    /// A^T m A, into its plane y as `mode` says (`WinogradTiles.transformOutput` walks the vectors
    /// and channels).
    @inline(__always)
    static func transformOutput(_ s: WinogradTileShape, _ mj: UnsafePointer<Float>, _ xi: Int,
                                _ place: (row: Int, column: Int, firstNew: Int), _ y: UnsafeMutablePointer<Float>, _ mode: DirectStore) {
        // down the columns (m[6 i + col] for i = 0...5), then along the rows
        @inline(__always) func column(_ col: Int) -> (V8, V8, V8, V8) {
            let p = mj + col &* xi
            return WinogradF4Matrices.a(DirectVectors.load(p), DirectVectors.load(p + 6 &* xi), DirectVectors.load(p + 12 &* xi),
                                        DirectVectors.load(p + 18 &* xi), DirectVectors.load(p + 24 &* xi),
                                        DirectVectors.load(p + 30 &* xi))
        }
        let q0 = column(0), q1 = column(1), q2 = column(2), q3 = column(3), q4 = column(4), q5 = column(5)
        storeRow(s, 0, WinogradF4Matrices.a(q0.0, q1.0, q2.0, q3.0, q4.0, q5.0), place, y, mode)
        storeRow(s, 1, WinogradF4Matrices.a(q0.1, q1.1, q2.1, q3.1, q4.1, q5.1), place, y, mode)
        storeRow(s, 2, WinogradF4Matrices.a(q0.2, q1.2, q2.2, q3.2, q4.2, q5.2), place, y, mode)
        storeRow(s, 3, WinogradF4Matrices.a(q0.3, q1.3, q2.3, q3.3, q4.3, q5.3), place, y, mode)
    }

    /// Output row `r` of a vector's tiles (o.k: column k of each tile) into one output plane,
    /// interleaved to 4 columns per tile: 32 columns of one tile row (row vectors: only its new
    /// tiles), or 16 of each of two (paired rows); never past OH or OW.
    @inline(__always)
    static func storeRow(_ s: WinogradTileShape, _ r: Int, _ o: (V8, V8, V8, V8), _ place: (row: Int, column: Int, firstNew: Int),
                         _ y: UnsafeMutablePointer<Float>, _ mode: DirectStore) {
        var even = SIMD16<Float>(), odd = SIMD16<Float>(), tiles = SIMD32<Float>()
        even.evenHalf = o.0; even.oddHalf = o.2; odd.evenHalf = o.1; odd.oddHalf = o.3
        tiles.evenHalf = even; tiles.oddHalf = odd   // lane 4 t + k = o.k[t]
        let (oh, ow) = (s.outHeight, s.outWidth)
        let (ty, tx, firstNew) = place
        let (oy, ox) = (4 &* ty &+ r, 4 &* tx)
        if !s.pairedRows {
            guard oy < oh else { return }
            let (from, end) = (4 &* firstNew, min(32, ow &- ox)), yr = y + (oy &* ow &+ ox)
            if from < 16 { DirectVectors.store(tiles.lowHalf, yr, mode, lanes: from &* 256 &+ min(16, end)) }
            if end > 16 { DirectVectors.store(tiles.highHalf, yr + 16, mode, lanes: max(0, from &- 16) &* 256 &+ (end &- 16)) }
            return
        }
        let lanes = min(16, ow)
        if oy < oh { DirectVectors.store(tiles.lowHalf, y + oy &* ow, mode, lanes: lanes) }
        if oy &+ 4 < oh { DirectVectors.store(tiles.highHalf, y + (oy &+ 4) &* ow, mode, lanes: lanes) }
    }
}
