import HutchTensorAVX2

/// `Kernels.gemm` without transA for Float on AVX2 + FMA: C (+)= alpha A op(B) on
/// `FixedOrderGemm`, as C^T = op(B)^T A^T. A's rows (examples, tokens) are then the product's
/// columns, and every element is one chain of fmas over k whatever the column count: a row's
/// bits do not depend on which rows share its call (`GemmRowBitsTests`), on the AVX2 and
/// AVX-512 builds alike. OpenBLAS's Zen 3 kernels did not give that (`Kernels.gemm`), and its
/// calls of exactly 8 padded rows, which did, repack B for every 8 rows: a two-probe trace of
/// Hugging Face DeiT takes 41.9-45.0 s on them and 36.2-40.4 s here, DistilBERT 10.0-13.6 s and
/// 9.6-13.2 s (Benchmarks/zoo/gemm-fixed-order-2026-12-07.txt). B is read in place; A^T and
/// C^T are scratch copies.
extension Kernels {
    /// Whether `gemm` runs its transA-false Float products here (HUTCH_GEMM_FIXED=0: OpenBLAS in
    /// calls of 8 padded rows).
    static let gemmFixedOrder = cpuHasAVX2FMA && ConvPathTable.host.overrides.gemmFixedOrder

    /// Products of fewer multiply-adds run on the calling thread alone: about 20 µs of work at
    /// this machine's rate, the order of a hand-off to another thread.
    static let gemmSplitMultiplyAdds = 1 << 20

    static func gemmFixedOrder(transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                               b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                               avx512: Bool = directAVX512Enabled) {
        let (vCount, tCount) = (k * m + FixedOrderGemm.readSlack, n * m)
        let v = BufferPool.shared.scratch(vCount, of: Float.self), t = BufferPool.shared.scratch(tCount, of: Float.self)
        defer { BufferPool.shared.release(v, vCount); BufferPool.shared.release(t, tCount) }
        for r in 0..<m {   // V = A^T [k, m]
            let src = a + r * lda
            for i in 0..<k { v[i * m + r] = src[i] }
        }
        // T = op(B)^T V: B's rows with transB, its columns without; T's rows split among the
        // caller's threads (one chunk in flight, a forward pass) above a size worth a hand-off
        let parts = n * m * k >= gemmSplitMultiplyAdds ? threads : 1
        fixedOrderMultiply(parts: parts, u: b, rowStride: transB ? ldb : 1, columnStride: transB ? 1 : ldb, rows: n, k: k, v: v,
                           columns: m, c: t, avx512: avx512)
        for r in 0..<m {   // C[r, j] = alpha T[j, r] (+ beta C[r, j])
            let dst = c + r * ldc
            for j in 0..<n {
                let x = alpha == 1 ? t[j * m + r] : alpha * t[j * m + r]
                dst[j] = beta == 0 ? x : x + beta * dst[j]
            }
        }
    }
}
