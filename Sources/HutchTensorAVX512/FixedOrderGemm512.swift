import HutchTensorAVX2

/// `FixedOrderGemm.multiply` with 16-lane vectors, compiled for AVX-512: the same tiles and
/// summation order (every element fma'd from zero over k in order), so the same bits.
public enum FixedOrderGemmAVX512 {
    /// C = U x V as `FixedOrderGemm.multiply`; callers check AVX-512 first.
    @inline(never)
    public static func multiply(u: UnsafePointer<Float>, rowStride: Int, columnStride: Int, rows: Int, k: Int,
                                v: UnsafePointer<Float>, columns: Int, c: UnsafeMutablePointer<Float>) {
        FixedOrderGemm.multiply(u: u, rowStride: rowStride, columnStride: columnStride, rows: rows, k: k, v: v, columns: columns, c: c,
                                as: SIMD16<Float>.self)
    }
}
