import HutchTensorAVX2

/// The products of Winograd F(2x2, 3x3) (`WinogradF2Products`) on 16-lane vectors, compiled for
/// AVX-512: the same FMA chains as the AVX2 build, the same bits. The transforms stay on AVX2.
public enum WinogradF2AVX512 {
    /// `WinogradF2AVX2.multiply` at 16 lanes (`count` even).
    @inline(never)
    public static func multiply(_ s: WinogradF2Shape, u: UnsafePointer<Float>, block: Int, v: UnsafePointer<Float>,
                                count: Int, m: UnsafeMutablePointer<Float>) {
        WinogradF2Products.multiply(s, u: u, block: block, v: v, count: count, m: m, as: SIMD16<Float>.self)
    }
}
