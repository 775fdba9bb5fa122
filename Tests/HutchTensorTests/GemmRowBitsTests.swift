import XCTest
import HutchTestSupport
@testable import HutchTensor

/// `Kernels.gemm` without transA gives a row the same bits whichever rows share its product
/// (alone, in a batch of any size, at any position): OpenBLAS's Zen 3 kernels did not, which
/// changed calibration scales between quantization windows and between a cluster and one process.
final class GemmRowBitsTests: XCTestCase {
    func testARowsProductDoesNotDependOnTheOtherRows() {
        for (n, k, transB) in [(64, 1100, true), (10, 1024, true), (1024, 64, false), (50, 768, false), (3, 9, true)] {
            var rng = SplitMix64(seed: UInt64(n * k))
            let b = (0..<(k * n)).map { _ in Float(rng.symmetric()) }
            let rows = 37
            let a = (0..<(rows * k)).map { _ in Float(rng.symmetric()) }
            func product(_ first: Int, _ count: Int) -> [UInt32] {
                var c = [Float](repeating: 0, count: count * n)
                a.withUnsafeBufferPointer { a in
                    Kernels.gemm(transA: false, transB: transB, m: count, n: n, k: k, alpha: 1, a: a.baseAddress! + first * k, lda: k,
                                 b: b, ldb: transB ? k : n, beta: 0, c: &c, ldc: n)
                }
                return c.map(\.bitPattern)
            }
            let whole = product(0, rows)
            for (first, count) in [(0, 1), (5, 1), (36, 1), (3, 4), (11, 7), (8, 8), (13, 16), (20, 17)] {
                XCTAssertEqual(product(first, count), Array(whole[(first * n)..<((first + count) * n)]),
                               "rows \(first)..<\(first + count) of \(rows), n \(n), k \(k), transB \(transB)")
            }
        }
    }

    /// C = alpha A op(B) + beta C against the same product in Double: both op(B) layouts, leading
    /// dimensions wider than the matrices, alpha 0.5, beta 0 and 1, k = 0, and more output
    /// columns than one packed block of `FixedOrderGemm` (Kernels+GemmFixedOrder) holds.
    func testAlphaBetaStridesAndBlocksMatchDouble() {
        var rng = SplitMix64(seed: 77)
        for (m, n, k, transB) in [(13, 1100, 37, true), (13, 1100, 37, false), (5, 9, 0, true), (1, 520, 300, false)] {
            let (lda, ldb, ldc) = (k + 3, (transB ? k : n) + 2, n + 1)
            let a = (0..<(m * lda)).map { _ in rng.symmetric() }, b = (0..<((transB ? n : k) * ldb)).map { _ in rng.symmetric() }
            let c0 = (0..<(m * ldc)).map { _ in rng.symmetric() }
            for beta in [0.0, 1.0] {
                var c = c0.map(Float.init), exact = c0
                Kernels.gemm(transA: false, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: a.map(Float.init), lda: lda,
                             b: b.map(Float.init), ldb: ldb, beta: Float(beta), c: &c, ldc: ldc)
                Double.gemm(transA: false, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: a, lda: lda, b: b, ldb: ldb,
                            beta: beta, c: &exact, ldc: ldc)
                for r in 0..<m {
                    for j in 0..<ldc {   // the padding column of C keeps its value
                        let i = r * ldc + j
                        XCTAssertEqual(Double(c[i]), j < n ? exact[i] : c0[i], accuracy: 1e-5 * Double(max(k, 1)),
                                       "\(m)x\(n)x\(k) transB \(transB) beta \(beta) at \(r), \(j)")
                    }
                }
            }
        }
    }
}
