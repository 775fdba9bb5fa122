/// What the per-example Winograd kernels F(2x2, 3x3) (`WinogradF2AVX2`) and F(4x4, 3x3)
/// (`WinogradF4AVX2`) share, compiled for AVX2 + FMA: the tile layout, the padded input split
/// into column phases, and the products.
///
/// A convolution runs one example at a time, like the direct kernel. An output tile of t x t
/// (t = 2 or 4) reads a window of (t + 2) x (t + 2) inputs and costs (t + 2)^2 products per
/// channel pair instead of 9 t^2. Its products use the direct kernel's register tile (4 output
/// channels x 3 vectors of 8 tiles, FMAs over the input channels).
///
/// Bits: M[xi][co][tile] = sum over ci in order of U[xi][co][ci] * V[xi][ci][tile], an FMA chain
/// from zero, and both transforms are the same operations in a fixed order for every tile, so an
/// output depends on nothing but the example, the weights and the shape: not on the slab, the
/// tile's vector, the thread or the other blocks of a call.
///
/// Layout: the input is padded and split into t column phases (`padPhases`: the stride-t layout
/// of `DirectConvShape`), so that each window column of 8 consecutive tiles is one plain load
/// (column k: phase k % t at tile offset k / t); each input float is shuffled once, there, not in
/// every window that reads it. Tiles go 8 to a vector along a tile row when it holds 5 or more
/// (the last vector of a row overlaps the one before and stores only its new tiles, as
/// `PlaneVectors` does; lanes past a shorter row read the padded input past it and are never
/// stored), else 4 from each of two tile rows (`pairedRows`).
public struct WinogradTileShape: Sendable, Equatable {
    /// Output tile height and width: 2 for F(2x2, 3x3), 4 for F(4x4, 3x3).
    public let tile: Int
    public let inChannels: Int, outChannels: Int
    public let outHeight: Int, outWidth: Int
    /// Tile rows and columns (ceil(OH / tile), ceil(OW / tile)).
    public let tileRows: Int, tileColumns: Int
    /// The padded input's shape: windows of tile + 2 at stride `tile`, one per tile.
    public let padded: DirectConvShape

    public init(tile: Int, inChannels: Int, inHeight: Int, inWidth: Int, outChannels: Int, padTop: Int, padLeft: Int,
                outHeight: Int, outWidth: Int) {
        precondition(tile == 2 || tile == 4, "WinogradTileShape: F(2x2) or F(4x4) tiles")
        self.tile = tile
        self.inChannels = inChannels; self.outChannels = outChannels
        self.outHeight = outHeight; self.outWidth = outWidth
        tileRows = (outHeight + tile - 1) / tile; tileColumns = (outWidth + tile - 1) / tile
        padded = DirectConvShape(inChannels: inChannels, inHeight: inHeight, inWidth: inWidth, outChannels: outChannels,
                                 kernelHeight: tile + 2, kernelWidth: tile + 2, strideH: tile, strideW: tile, padTop: padTop,
                                 padLeft: padLeft, outHeight: tileRows, outWidth: tileColumns)
    }

    /// Products per tile and channel pair: (tile + 2)^2.
    public var positions: Int { (tile + 2) * (tile + 2) }
    /// Whether a vector holds 4 tiles of each of two tile rows (rows of at most 4 tiles).
    public var pairedRows: Bool { tileColumns <= 4 }
    public var vectorsPerRow: Int { (tileColumns + 7) / 8 }
    /// Vectors of 8 tiles per example.
    public var vectors: Int { pairedRows ? (tileRows + 1) / 2 : tileRows * vectorsPerRow }
    /// Floats of the transformed weights: [xi][C_out / 4 rounded up][C_in][4].
    public var packedWeightCount: Int { positions * ((outChannels + 3) / 4) * 4 * inChannels }
    /// Tile vectors per slab: the transformed input of a slab, positions x C_in x 8 x slabVectors
    /// floats, stays in L2 (F(2x2): 48 KB at 16 channels, 192 KB at 64) and under 4 examples'
    /// inputs on small planes (the chunk bound's kernel scratch). Three register tiles of 8 lanes,
    /// or of 16; a slab's last vectors are transformed up to an even count (a copy of the last).
    public var slabVectors: Int { min(6, vectors + vectors % 2) }
    /// Scratch floats per thread: the transformed input and products of one slab.
    public var slabInputCount: Int { positions * inChannels * 8 * slabVectors }
    public var slabProductCount: Int { positions * 4 * 8 * slabVectors }

    /// Where vector `v` sits: its first tile row and column, and the lane of its first tile not
    /// already stored by the vector before it (rows of 8 or more tiles).
    @inline(__always)
    func place(_ v: Int) -> (row: Int, column: Int, firstNew: Int) {
        if pairedRows { return (2 &* v, 0, 0) }
        let (ty, i) = (v / vectorsPerRow, v % vectorsPerRow)
        let tx = tileColumns >= 8 ? min(8 &* i, tileColumns &- 8) : 0
        return (ty, tx, 8 &* i &- tx)
    }

    /// The padded row of vector `v`'s first tile row, its first tile column, and the offset of the
    /// paired vector's second tile row (the last row again past the end: never stored), for
    /// `first + j` clamped to the last vector (a slab's even copy, never stored).
    @inline(__always)
    func window(_ v: Int) -> (start: Int, pair: Int) {
        let (ty, tx, _) = place(min(v, vectors &- 1))
        let rowStride = padded.rowStride
        let pair = (min(ty &+ 1, tileRows &- 1) &- ty) &* tile &* rowStride
        return (tile &* ty &* rowStride &+ tx, pair)
    }
}

public enum WinogradTiles {
    /// One example x [C_in, H, W] into the padded, phase-split layout of `s.padded`
    /// (`paddedCount` floats): padded row r, phase q, index j holds
    /// x[ci][r - padTop][tile * j + q - padLeft], zero outside x. A row is zeroed, then each 16
    /// floats of the input row are loaded once and split into the `tile` phases.
    @inline(never)
    public static func padPhases(_ s: WinogradTileShape, x: UnsafePointer<Float>, into padded: UnsafeMutablePointer<Float>) {
        if s.tile == 2 { padPhases(s, x: x, into: padded, phases: 2) } else { padPhases(s, x: x, into: padded, phases: 4) }
    }

    /// `padPhases` with the tile a constant (its divisions then shifts).
    @inline(__always)
    static func padPhases(_ s: WinogradTileShape, x: UnsafePointer<Float>, into padded: UnsafeMutablePointer<Float>, phases t: Int) {
        let p = s.padded
        let (h, w, half, left) = (p.inHeight, p.inWidth, p.phaseLength, p.padLeft)
        // input column c = t * i + q goes to phase (q + left) % t, index i + (q + left) / t
        @inline(__always) func offset(_ q: Int) -> Int { ((q &+ left) % t) &* half &+ (q &+ left) / t }
        let (o0, o1, o2, o3) = (offset(0), offset(1), offset(2 % t), offset(3 % t))
        DirectConvAVX2.zero(padded + p.inChannels &* p.channelStride, DirectConvShape.readSlack)
        for ci in 0..<p.inChannels {
            var row = padded + ci &* p.channelStride
            for r in 0..<p.paddedHeight {
                DirectConvAVX2.zero(row, p.rowStride)
                let iy = r &- p.padTop
                if iy >= 0 && iy < h {
                    let xr = x + (ci &* h &+ iy) &* w
                    var c = 0
                    // columns c ..< c + V.scalarCount into the phases, their first index c / t
                    @inline(__always) func split<V: PhaseHalves>(_ v: V) where V.Half: PhaseHalves {
                        let (even, odd, i) = (v.evenHalf, v.oddHalf, c / t)
                        if t == 2 {
                            store(even, row + (o0 &+ i)); store(odd, row + (o1 &+ i))
                        } else {
                            store(even.evenHalf, row + (o0 &+ i)); store(odd.evenHalf, row + (o1 &+ i))
                            store(even.oddHalf, row + (o2 &+ i)); store(odd.oddHalf, row + (o3 &+ i))
                        }
                    }
                    while c &+ 16 <= w {
                        split(UnsafeRawPointer(xr + c).loadUnaligned(as: SIMD16<Float>.self))
                        c &+= 16
                    }
                    if c &+ 8 <= w {   // 8-wide planes
                        split(UnsafeRawPointer(xr + c).loadUnaligned(as: SIMD8<Float>.self))
                        c &+= 8
                    }
                    while c < w {
                        let q = c % t
                        row[(q == 0 ? o0 : q == 1 ? o1 : q == 2 ? o2 : o3) &+ c / t] = xr[c]
                        c &+= 1
                    }
                }
                row += p.rowStride
            }
        }
    }

    /// One example's padded input (`padPhases`), tile vectors `first..<first + count`, into
    /// v[xi][ci][8 * j] (j the vector's place in the slab): B^T d B by the tile's transform
    /// (`WinogradF2AVX2`, `WinogradF4AVX2`).
    @inline(never)
    public static func transformInput(_ s: WinogradTileShape, padded: UnsafePointer<Float>, first: Int, count: Int,
                                      into v: UnsafeMutablePointer<Float>) {
        let (rowStride, phase) = (s.padded.rowStride, s.padded.phaseLength)
        if s.tile == 2 {
            walkWindows(s, padded: padded, first: first, count: count, into: v) { src, out, xiStride, load in
                WinogradF2AVX2.transformWindow(src, rowStride, phase, out, xiStride, load)
            }
        } else {
            walkWindows(s, padded: padded, first: first, count: count, into: v) { src, out, xiStride, load in
                WinogradF4AVX2.transformWindow(src, rowStride, phase, out, xiStride, load)
            }
        }
    }

    /// Output channels `4 * block ..< ` (up to 4) of the slab's first `stored` vectors (of `count`
    /// in m's layout) from their products, A^T m A by the tile's transform, into y (C_out planes of
    /// OH x OW) as `mode` says.
    @inline(never)
    public static func transformOutput(_ s: WinogradTileShape, m: UnsafePointer<Float>, block: Int, first: Int, count: Int,
                                       stored: Int, y: UnsafeMutablePointer<Float>, mode: DirectStore) {
        if s.tile == 2 {
            walkProducts(s, m: m, block: block, first: first, count: count, stored: stored, y: y) { mj, xi, place, yc in
                WinogradF2AVX2.transformOutput(s, mj, xi, place, yc, mode)
            }
        } else {
            walkProducts(s, m: m, block: block, first: first, count: count, stored: stored, y: y) { mj, xi, place, yc in
                WinogradF4AVX2.transformOutput(s, mj, xi, place, yc, mode)
            }
        }
    }

    /// The output transform's walk: for each of the slab's first `stored` vectors and each output
    /// channel of the block, `tiles(mj, xiStride, place, plane)` with mj the vector's products of
    /// that channel in m [xi][4][8 * count], place where the vector sits and plane the channel's
    /// output plane in y.
    @inline(__always)
    static func walkProducts(_ s: WinogradTileShape, m: UnsafePointer<Float>, block: Int, first: Int, count: Int, stored: Int,
                             y: UnsafeMutablePointer<Float>,
                             tiles: (UnsafePointer<Float>, Int, (row: Int, column: Int, firstNew: Int), UnsafeMutablePointer<Float>) -> Void) {
        let columns = 8 &* count
        let (plane, xi) = (s.outHeight &* s.outWidth, 4 &* columns)
        let channels = min(4, s.outChannels &- 4 &* block)
        for j in 0..<stored {
            let place = s.place(first &+ j)   // once per vector: a division
            for c in 0..<channels {
                tiles(m + (c &* columns &+ 8 &* j), xi, place, y + (4 &* block &+ c) &* plane)
            }
        }
    }

    /// The input transform's walk: for each channel of tile vectors `first..<first + count`,
    /// `window(src, out, xiStride, load)` with src the top left of the vector's first window, out
    /// its place in v (xi `xiStride` apart) and `load` reading 8 tiles' values at an offset of
    /// src's (4 from each of two tile rows where rows are paired).
    @inline(__always)
    static func walkWindows(_ s: WinogradTileShape, padded: UnsafePointer<Float>, first: Int, count: Int,
                            into v: UnsafeMutablePointer<Float>,
                            window: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int,
                                     (UnsafePointer<Float>) -> SIMD8<Float>) -> Void) {
        let (columns, channelStride) = (8 &* count, s.padded.channelStride)
        let xiStride = s.inChannels &* columns
        for j in 0..<count {
            let (start, pair) = s.window(first &+ j)
            var src = padded + start, out = v + 8 &* j
            for _ in 0..<s.inChannels {
                if s.pairedRows {
                    window(src, out, xiStride) { q in
                        SIMD8(lowHalf: DirectVectors.load(q, as: SIMD4<Float>.self), highHalf: DirectVectors.load(q + pair))
                    }
                } else {
                    window(src, out, xiStride) { q in DirectVectors.load(q) }
                }
                src += channelStride; out += columns
            }
        }
    }

    /// Products of output channels `4 * block ..< 4 * block + 4` for the slab's `count` vectors
    /// (`WinogradTileProducts.multiply` on 8 lanes).
    @inline(never)
    public static func multiply(_ s: WinogradTileShape, u: UnsafePointer<Float>, block: Int, v: UnsafePointer<Float>,
                                count: Int, m: UnsafeMutablePointer<Float>) {
        WinogradTileProducts.multiply(s, u: u, block: block, v: v, count: count, m: m, as: SIMD8<Float>.self)
    }

    /// The same products on 16 lanes compiled for AVX2: the AVX-512 build's code at its width, so
    /// that a machine without AVX-512 still tests its lanes and layout (`count` even).
    @inline(never)
    public static func multiplySixteenLanes(_ s: WinogradTileShape, u: UnsafePointer<Float>, block: Int, v: UnsafePointer<Float>,
                                            count: Int, m: UnsafeMutablePointer<Float>) {
        WinogradTileProducts.multiply(s, u: u, block: block, v: v, count: count, m: m, as: SIMD16<Float>.self)
    }

    @inline(__always) static func store<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<Float>) where V.Scalar == Float {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
    }
}

/// Vectors that split into their even and odd lanes (`padPhases`: 16 or 8 input columns into 2 or
/// 4 column phases).
protocol PhaseHalves: SIMD where Scalar == Float {
    associatedtype Half: SIMD where Half.Scalar == Float
    var evenHalf: Half { get }
    var oddHalf: Half { get }
}

extension SIMD16: PhaseHalves where Scalar == Float {}
extension SIMD8: PhaseHalves where Scalar == Float {}
extension SIMD4: PhaseHalves where Scalar == Float {}

/// The products of the per-example Winograd kernels at vector width V (SIMD8 for AVX2, SIMD16 for
/// AVX-512): m[xi][c][col] = sum over ci in order of u[xi][block][ci][c] * v[xi][ci][col], an FMA
/// chain from zero per element, so every width gives the same bits. The direct kernel's register
/// tile: 4 output channels x 3 vectors, each step 3 loads, 4 broadcasts and 12 FMAs over the input
/// channels; 2 vectors (8 accumulators keep both FMA pipes busy) or 1 at a slab's end.
/// `@inlinable` and always inlined, so that each module compiles it for its own CPU.
public enum WinogradTileProducts {
    /// `count` 8-tile vectors (a multiple of V's width / 8) of v [xi][ci][8 * count] into m [xi][4][8 * count].
    @inlinable @inline(__always)
    public static func multiply<V: SIMD>(_ s: WinogradTileShape, u: UnsafePointer<Float>, block: Int, v: UnsafePointer<Float>,
                                         count: Int, m: UnsafeMutablePointer<Float>, as: V.Type) where V.Scalar == Float {
        let (cin, columns, lanes) = (s.inChannels, 8 &* count, V.scalarCount)
        let vectors = columns / lanes
        let blocks = (s.outChannels &+ 3) / 4
        for xi in 0..<s.positions {
            let w = u + (xi &* blocks &+ block) &* cin &* 4
            let (vx, mx) = (v + xi &* cin &* columns, m + xi &* 4 &* columns)
            var j = 0
            while j &+ 3 <= vectors && vectors &- j != 4 {   // 4 as 2 + 2: one vector alone would leave an FMA pipe idle
                tile3(vx + j &* lanes, columns, w, cin, mx + j &* lanes, columns, as: V.self)
                j &+= 3
            }
            if vectors &- j == 4 {
                tile2(vx + j &* lanes, columns, w, cin, mx + j &* lanes, columns, as: V.self)
                tile2(vx + (j &+ 2) &* lanes, columns, w, cin, mx + (j &+ 2) &* lanes, columns, as: V.self)
            } else if vectors &- j == 2 {
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
