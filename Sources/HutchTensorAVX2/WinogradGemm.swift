/// The products of Winograd F(4x4, 3x3) (Kernels+Winograd4): C [rows, columns] = U [rows, k] x
/// V [k, columns], with U packed as [rows / 4][k][4] (rows padded with zeros to a multiple of 4)
/// and V, C row-major with `columns` per row. Every element of C is fma'd from zero over k in
/// order, one lane each, so the AVX2 (8 lanes) and AVX-512 (16 lanes) builds give the same bits,
/// whatever the column count or where a vector starts. A tile is 4 rows x 3 vectors.
/// V needs `readSlack` floats after its last row (a row narrower than a vector reads past it;
/// those lanes are never stored).
public enum WinogradGemm {
    /// Floats read past V by the widest (16-lane) build.
    public static let readSlack = 16

    /// Floats of U packed for `rows` x `k`.
    public static func packedCount(rows: Int, k: Int) -> Int { (rows + 3) / 4 * 4 * k }

    /// C = U x V with 8-lane vectors; callers check AVX2 + FMA first.
    @inline(never)
    public static func multiply(u: UnsafePointer<Float>, rows: Int, k: Int, v: UnsafePointer<Float>, columns: Int,
                                c: UnsafeMutablePointer<Float>) {
        multiply(u: u, rows: rows, k: k, v: v, columns: columns, c: c, as: SIMD8<Float>.self)
    }

    /// The tiling at vector width V (each build compiles it for its own CPU).
    @inlinable @inline(__always)
    public static func multiply<V: SIMD>(u: UnsafePointer<Float>, rows: Int, k: Int, v: UnsafePointer<Float>, columns: Int,
                                         c: UnsafeMutablePointer<Float>, as: V.Type) where V.Scalar == Float {
        let width = V.scalarCount
        let vectors = (columns + width - 1) / width
        // vector j starts at min(width * j, columns - width): the last overlaps the one before
        // (same lanes, same sums); below one vector it starts at 0 and stores `columns` lanes
        @inline(__always) func start(_ j: Int) -> Int { columns >= width ? min(width * j, columns - width) : 0 }
        let lanes = min(width, columns)
        var j = 0
        while j < vectors {
            let n = min(3, vectors - j)
            for rb in stride(from: 0, to: rows, by: 4) {
                let up = u + rb * k, cp = c + rb * columns, live = min(4, rows - rb)
                if n == 3 {
                    tile3(up, k: k, v: v, columns: columns, starts: (start(j), start(j + 1), start(j + 2)), c: cp,
                          live: live, as: V.self)
                } else {
                    for i in 0..<n { tile1(up, k: k, v: v, columns: columns, at: start(j + i), c: cp, live: live, lanes: lanes, as: V.self) }
                }
            }
            j += n
        }
    }

    @inlinable @inline(__always)
    static func load<V: SIMD>(_ p: UnsafePointer<Float>) -> V where V.Scalar == Float { UnsafeRawPointer(p).loadUnaligned(as: V.self) }

    @inlinable @inline(__always)
    static func store<V: SIMD>(_ x: V, _ p: UnsafeMutablePointer<Float>) where V.Scalar == Float {
        UnsafeMutableRawPointer(p).storeBytes(of: x, as: V.self)
    }

    /// 4 rows x 3 whole vectors (columns >= width).
    @inlinable @inline(__always)
    static func tile3<V: SIMD>(_ u: UnsafePointer<Float>, k: Int, v: UnsafePointer<Float>, columns: Int,
                               starts: (Int, Int, Int), c: UnsafeMutablePointer<Float>, live: Int, as: V.Type)
    where V.Scalar == Float {
        var (a00, a01, a02, a10, a11, a12) = (V(), V(), V(), V(), V(), V())
        var (a20, a21, a22, a30, a31, a32) = (V(), V(), V(), V(), V(), V())
        var vp = v, up = u
        for _ in 0..<k {
            let x0: V = load(vp + starts.0), x1: V = load(vp + starts.1), x2: V = load(vp + starts.2)
            let w0 = V(repeating: up[0]), w1 = V(repeating: up[1]), w2 = V(repeating: up[2]), w3 = V(repeating: up[3])
            a00 = a00.addingProduct(x0, w0); a01 = a01.addingProduct(x1, w0); a02 = a02.addingProduct(x2, w0)
            a10 = a10.addingProduct(x0, w1); a11 = a11.addingProduct(x1, w1); a12 = a12.addingProduct(x2, w1)
            a20 = a20.addingProduct(x0, w2); a21 = a21.addingProduct(x1, w2); a22 = a22.addingProduct(x2, w2)
            a30 = a30.addingProduct(x0, w3); a31 = a31.addingProduct(x1, w3); a32 = a32.addingProduct(x2, w3)
            vp += columns; up += 4
        }
        store(a00, c + starts.0); store(a01, c + starts.1); store(a02, c + starts.2)
        if live > 1 { let r = c + columns; store(a10, r + starts.0); store(a11, r + starts.1); store(a12, r + starts.2) }
        if live > 2 { let r = c + 2 * columns; store(a20, r + starts.0); store(a21, r + starts.1); store(a22, r + starts.2) }
        if live > 3 { let r = c + 3 * columns; store(a30, r + starts.0); store(a31, r + starts.1); store(a32, r + starts.2) }
    }

    /// 4 rows x 1 vector starting at column `at`, `lanes` of it stored.
    @inlinable @inline(__always)
    static func tile1<V: SIMD>(_ u: UnsafePointer<Float>, k: Int, v: UnsafePointer<Float>, columns: Int, at: Int,
                               c: UnsafeMutablePointer<Float>, live: Int, lanes: Int, as: V.Type) where V.Scalar == Float {
        var (a0, a1, a2, a3) = (V(), V(), V(), V())
        var vp = v + at, up = u
        for _ in 0..<k {
            let x: V = load(vp)
            a0 = a0.addingProduct(x, V(repeating: up[0])); a1 = a1.addingProduct(x, V(repeating: up[1]))
            a2 = a2.addingProduct(x, V(repeating: up[2])); a3 = a3.addingProduct(x, V(repeating: up[3]))
            vp += columns; up += 4
        }
        @inline(__always) func put(_ a: V, _ r: Int) {
            guard r < live else { return }
            let p = c + r * columns + at
            if lanes == V.scalarCount { store(a, p) } else { for l in 0..<lanes { p[l] = a[l] } }
        }
        put(a0, 0); put(a1, 1); put(a2, 2); put(a3, 3)
    }
}
