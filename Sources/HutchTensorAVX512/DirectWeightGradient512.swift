import HutchTensorAVX2

/// DirectWeightGradAVX2's tiles with 16-channel zmm vectors (Package.swift: this target is
/// compiled for AVX-512; callers check the CPU first). The same packed accumulator, transposed dy
/// and chains: each weight one lane, fma'd from zero over the positions in the same order, so
/// both kernels give the same bits. A tile is 12 steps x 16 channels, 12 zmm accumulators.
public enum DirectWeightGradAVX512 {
    /// As `DirectWeightGradAVX2.accumulate`.
    @inline(never)
    public static func accumulate(_ s: DirectWeightGradShape, padded x: UnsafePointer<Float>, transposed dy: UnsafePointer<Float>,
                                  off: UnsafePointer<Int>, rows: Range<Int>, tiles: Range<Int>, acc: UnsafeMutablePointer<Float>) {
        let ow = s.conv.outWidth, rowInput = s.conv.strideH * s.conv.rowStride, row = s.transposedRow
        s.forEachTile(tiles) { k0, lane, a in
            tile12(x, off + k0, dy + lane, row, rows, ow, rowInput, acc + a)
        }
    }

    @inline(__always)
    static func tile12(_ x: UnsafePointer<Float>, _ off: UnsafePointer<Int>, _ dy: UnsafePointer<Float>, _ row: Int,
                       _ rows: Range<Int>, _ ow: Int, _ rowInput: Int, _ acc: UnsafeMutablePointer<Float>) {
        typealias V = SIMD16<Float>
        @inline(__always) func ld(_ p: UnsafePointer<Float>) -> V { DirectVectors.load(p) }
        var a0 = ld(acc), a1 = ld(acc + 16), a2 = ld(acc + 32), a3 = ld(acc + 48), a4 = ld(acc + 64), a5 = ld(acc + 80)
        var a6 = ld(acc + 96), a7 = ld(acc + 112), a8 = ld(acc + 128), a9 = ld(acc + 144), a10 = ld(acc + 160), a11 = ld(acc + 176)
        let (o0, o1, o2, o3, o4, o5) = (off[0], off[1], off[2], off[3], off[4], off[5])
        let (o6, o7, o8, o9, o10, o11) = (off[6], off[7], off[8], off[9], off[10], off[11])
        for oy in rows {
            let xr = x + oy * rowInput
            var d = dy + oy * ow * row
            for ox in 0..<ow {
                let g = ld(d)
                let xp = xr + ox
                a0 = a0.addingProduct(g, V(repeating: xp[o0])); a1 = a1.addingProduct(g, V(repeating: xp[o1]))
                a2 = a2.addingProduct(g, V(repeating: xp[o2])); a3 = a3.addingProduct(g, V(repeating: xp[o3]))
                a4 = a4.addingProduct(g, V(repeating: xp[o4])); a5 = a5.addingProduct(g, V(repeating: xp[o5]))
                a6 = a6.addingProduct(g, V(repeating: xp[o6])); a7 = a7.addingProduct(g, V(repeating: xp[o7]))
                a8 = a8.addingProduct(g, V(repeating: xp[o8])); a9 = a9.addingProduct(g, V(repeating: xp[o9]))
                a10 = a10.addingProduct(g, V(repeating: xp[o10])); a11 = a11.addingProduct(g, V(repeating: xp[o11]))
                d += row
            }
        }
        @inline(__always) func st(_ v: V, _ p: UnsafeMutablePointer<Float>) {
            UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
        }
        st(a0, acc); st(a1, acc + 16); st(a2, acc + 32); st(a3, acc + 48); st(a4, acc + 64); st(a5, acc + 80)
        st(a6, acc + 96); st(a7, acc + 112); st(a8, acc + 128); st(a9, acc + 144); st(a10, acc + 160); st(a11, acc + 176)
    }
}
