import HutchTensorAVX2

/// The products of the per-example Winograd kernels (`WinogradTileProducts`) on 16-lane vectors, compiled for
/// AVX-512: the same FMA chains as the AVX2 build, the same bits. The transforms stay on AVX2. Opt-in
/// (HUTCH_WINOGRAD_TILES_AVX512=1) until it has run on AVX-512 hardware.
public enum WinogradTilesAVX512 {
    /// `WinogradTiles.multiply` at 16 lanes (`count` even).
    @inline(never)
    public static func multiply(_ s: WinogradTileShape, u: UnsafePointer<Float>, block: Int, v: UnsafePointer<Float>,
                                count: Int, m: UnsafeMutablePointer<Float>) {
        WinogradTileProducts.multiply(s, u: u, block: block, v: v, count: count, m: m, as: SIMD16<Float>.self)
    }
}
