/// Hutch's own matrix product, for the products whose bits must not depend on the column count
/// (Winograd F(4x4, 3x3)'s in Kernels+Winograd4, im2col's in Kernels+Im2colFixedOrder and Gemm's
/// and MatMul's in Kernels+GemmFixedOrder, whose columns are the examples or tokens of a call):
/// C [rows, columns] = U [rows, k] x V [k, columns], U[r, i] read at u[r * rowStride + i *
/// columnStride] (a matrix or its transpose, never packed), V and C row-major with `columns` per
/// row. Every element of C is fma'd from zero over k in order, one lane each, so the AVX2 (8
/// lanes) and AVX-512 (16 lanes) builds give the same bits, whatever the column count or where
/// a vector starts. A tile is 4 rows x 3 vectors. V needs `readSlack` floats after its last row
/// (a row's last vector reads past its end; those lanes are never stored).
/// On ResNet-50's im2col shapes it runs as fast as OpenBLAS's sgemm on one thread with U a matrix
/// and 4-8 % slower with U a transpose (Benchmarks/results/im2col-fixed-order-paths-imagenet.txt);
/// packing U first, as OpenBLAS does, gained nothing.
public enum FixedOrderGemm {
    /// Floats read past V by the widest (16-lane) build.
    public static let readSlack = 16

    /// C = U x V with 8-lane vectors; callers check AVX2 + FMA first.
    @inline(never)
    public static func multiply(u: UnsafePointer<Float>, rowStride: Int, columnStride: Int, rows: Int, k: Int,
                                v: UnsafePointer<Float>, columns: Int, c: UnsafeMutablePointer<Float>) {
        multiply(u: u, rowStride: rowStride, columnStride: columnStride, rows: rows, k: k, v: v, columns: columns, c: c,
                 as: SIMD8<Float>.self)
    }

    /// Inner-dimension block: a panel of at most `kBlock` rows x 3 vectors of V (48 KiB, or 24 KiB
    /// where U's rows are not contiguous: its 4 rows a step then take a cache line each) stays in
    /// cache while every 4-row block of U passes over it; k splits into equal blocks. Partial sums
    /// wait in C between blocks (a float stored and loaded again is the same float), so blocking
    /// keeps every element's chain of fmas, and its bits.
    @inlinable
    public static func kBlock(width: Int, contiguousRows: Bool) -> Int { (contiguousRows ? 4096 : 2048) / width }

    /// The tiling at vector width V (each build compiles it for its own CPU): panels of three
    /// vectors of columns, the last vector of a row holding the `columns % width` tail.
    @inlinable @inline(__always)
    public static func multiply<V: SIMD>(u: UnsafePointer<Float>, rowStride: Int, columnStride: Int, rows: Int, k: Int,
                                         v: UnsafePointer<Float>, columns: Int, c: UnsafeMutablePointer<Float>, as: V.Type)
    where V.Scalar == Float {
        guard k > 0 else {   // an empty sum
            for r in 0..<rows { (c + r * columns).update(repeating: 0, count: columns) }
            return
        }
        let width = V.scalarCount, most = kBlock(width: width, contiguousRows: columnStride == 1)
        let blocks = (k + most - 1) / most, kc = (k + blocks - 1) / blocks   // equal blocks of at most `most`
        let vectors = (columns + width - 1) / width
        let panel = UnsafeMutablePointer<Float>.allocate(capacity: kc * 3 * width)
        defer { panel.deallocate() }
        for k0 in stride(from: 0, to: k, by: kc) {
            let kn = min(kc, k - k0), first = k0 == 0
            var j = 0
            while j < vectors {
                let n = min(3, vectors - j), lastLanes = min(width, columns - width * (j + n - 1))
                for kk in 0..<kn {   // panel[kk][i] = V[k0 + kk][width * (j + i) ..< width * (j + i + 1)]
                    let src = v + (k0 + kk) * columns + width * j, dst = panel + kk * n * width
                    for i in 0..<n { store(load(src + i * width) as V, dst + i * width) }
                }
                for rb in stride(from: 0, to: rows, by: 4) {
                    let live = min(4, rows - rb)
                    // a block's rows past the last read the last one again: their sums are never stored
                    let rowsU = Rows(u + rb * rowStride + k0 * columnStride, (min(1, live - 1) * rowStride,
                                     min(2, live - 1) * rowStride, min(3, live - 1) * rowStride), step: columnStride)
                    let cp = c + rb * columns + width * j
                    if n == 3 {
                        tile3(rowsU, k: kn, panel: panel, columns: columns, c: cp, live: live, lastLanes: lastLanes, first: first,
                              as: V.self)
                    } else {
                        for i in 0..<n {
                            tile1(rowsU, k: kn, panel: panel + i * width, panelStride: n * width, columns: columns, c: cp + i * width,
                                  live: live, lanes: i == n - 1 ? lastLanes : width, first: first, as: V.self)
                        }
                    }
                }
                j += n
            }
        }
    }

    /// Four rows of U from column k0 on: row r at `base + offsets.r`, `step` apart along k.
    @usableFromInline
    struct Rows {
        @usableFromInline let base: UnsafePointer<Float>
        @usableFromInline let offsets: (Int, Int, Int)
        @usableFromInline let step: Int

        @inlinable @inline(__always)
        init(_ base: UnsafePointer<Float>, _ offsets: (Int, Int, Int), step: Int) {
            self.base = base
            self.offsets = offsets
            self.step = step
        }
    }

    @inlinable @inline(__always)
    static func load<V: SIMD>(_ p: UnsafePointer<Float>) -> V where V.Scalar == Float { UnsafeRawPointer(p).loadUnaligned(as: V.self) }

    @inlinable @inline(__always)
    static func store<V: SIMD>(_ x: V, _ p: UnsafeMutablePointer<Float>) where V.Scalar == Float {
        UnsafeMutableRawPointer(p).storeBytes(of: x, as: V.self)
    }

    @inlinable @inline(__always)
    static func store<V: SIMD>(_ x: V, _ p: UnsafeMutablePointer<Float>, lanes: Int) where V.Scalar == Float {
        if lanes == V.scalarCount { store(x, p) } else { for l in 0..<lanes { p[l] = x[l] } }
    }

    /// The partial sums of `lanes` columns at p: zero before the first block.
    @inlinable @inline(__always)
    static func partial<V: SIMD>(_ p: UnsafePointer<Float>, lanes: Int, first: Bool) -> V where V.Scalar == Float {
        if first { return V() }
        if lanes == V.scalarCount { return load(p) }
        var a = V()
        for l in 0..<lanes { a[l] = p[l] }
        return a
    }

    /// 4 rows x 3 vectors of a panel (rows `live` and up are never read from or stored in C), the
    /// third vector `lastLanes` wide.
    @inlinable @inline(__always)
    static func tile3<V: SIMD>(_ u: Rows, k: Int, panel: UnsafePointer<Float>, columns: Int, c: UnsafeMutablePointer<Float>,
                               live: Int, lastLanes: Int, first: Bool, as: V.Type) where V.Scalar == Float {
        let w = V.scalarCount, (o1, o2, o3) = u.offsets
        @inline(__always) func sums(_ r: Int, _ i: Int) -> V {
            r < live ? partial(c + r * columns + i * w, lanes: i == 2 ? lastLanes : w, first: first) : V()
        }
        var (a00, a01, a02, a10, a11, a12) = (sums(0, 0), sums(0, 1), sums(0, 2), sums(1, 0), sums(1, 1), sums(1, 2))
        var (a20, a21, a22, a30, a31, a32) = (sums(2, 0), sums(2, 1), sums(2, 2), sums(3, 0), sums(3, 1), sums(3, 2))
        var vp = panel, up = u.base
        for _ in 0..<k {
            let x0: V = load(vp), x1: V = load(vp + w), x2: V = load(vp + 2 * w)
            let w0 = V(repeating: up[0]), w1 = V(repeating: up[o1]), w2 = V(repeating: up[o2]), w3 = V(repeating: up[o3])
            a00 = a00.addingProduct(x0, w0); a01 = a01.addingProduct(x1, w0); a02 = a02.addingProduct(x2, w0)
            a10 = a10.addingProduct(x0, w1); a11 = a11.addingProduct(x1, w1); a12 = a12.addingProduct(x2, w1)
            a20 = a20.addingProduct(x0, w2); a21 = a21.addingProduct(x1, w2); a22 = a22.addingProduct(x2, w2)
            a30 = a30.addingProduct(x0, w3); a31 = a31.addingProduct(x1, w3); a32 = a32.addingProduct(x2, w3)
            vp += 3 * w; up += u.step
        }
        @inline(__always) func put(_ a0: V, _ a1: V, _ a2: V, _ r: Int) {
            guard r < live else { return }
            let p = c + r * columns
            store(a0, p); store(a1, p + w); store(a2, p + 2 * w, lanes: lastLanes)
        }
        put(a00, a01, a02, 0); put(a10, a11, a12, 1); put(a20, a21, a22, 2); put(a30, a31, a32, 3)
    }

    /// 4 rows x 1 vector of a panel whose rows are `panelStride` apart, `lanes` wide.
    @inlinable @inline(__always)
    static func tile1<V: SIMD>(_ u: Rows, k: Int, panel: UnsafePointer<Float>, panelStride: Int, columns: Int,
                               c: UnsafeMutablePointer<Float>, live: Int, lanes: Int, first: Bool, as: V.Type) where V.Scalar == Float {
        let (o1, o2, o3) = u.offsets
        @inline(__always) func sums(_ r: Int) -> V { r < live ? partial(c + r * columns, lanes: lanes, first: first) : V() }
        var (a0, a1, a2, a3) = (sums(0), sums(1), sums(2), sums(3))
        var vp = panel, up = u.base
        for _ in 0..<k {
            let x: V = load(vp)
            a0 = a0.addingProduct(x, V(repeating: up[0])); a1 = a1.addingProduct(x, V(repeating: up[o1]))
            a2 = a2.addingProduct(x, V(repeating: up[o2])); a3 = a3.addingProduct(x, V(repeating: up[o3]))
            vp += panelStride; up += u.step
        }
        @inline(__always) func put(_ a: V, _ r: Int) { if r < live { store(a, c + r * columns, lanes: lanes) } }
        put(a0, 0); put(a1, 1); put(a2, 2); put(a3, 3)
    }
}
