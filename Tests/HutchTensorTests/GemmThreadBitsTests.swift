import XCTest
import HutchTestSupport
@testable import HutchTensor

/// `Kernels.gemm` (Gemm and MatMul ops) gives the same bits at any thread count.
final class GemmThreadBitsTests: XCTestCase {
    func testProductsAreTheSameBitsAtOneAndTwoThreads() {
        // GPT-2-like shapes (32 tokens, hidden 768, 4 x hidden, vocabulary), forward and both
        // adjoints; 32 x 768 x 50257 differed when OpenBLAS threaded it
        let shapes = [(32, 3072, 768), (32, 768, 3072), (768, 3072, 32), (3072, 768, 32), (32, 50257, 768), (768, 50257, 32),
                      (50257, 768, 32), (197, 768, 768), (32, 768, 50257)]
        for (m, n, k) in shapes {
            for (transA, transB, beta) in [(false, false, Float(0)), (false, true, 1), (true, false, 1)] {
                var rng = SplitMix64(seed: UInt64(m * n + k))
                let a = (0..<(m * k)).map { _ in Float(rng.symmetric()) }
                let b = (0..<(k * n)).map { _ in Float(rng.symmetric()) }
                let c0 = (0..<(m * n)).map { _ in Float(rng.symmetric()) }
                func product(threads: Int) -> [UInt32] {
                    var c = c0
                    Kernels.withThreads(threads) {
                        Kernels.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1, a: a, lda: transA ? m : k,
                                     b: b, ldb: transB ? k : n, beta: beta, c: &c, ldc: n)
                    }
                    return c.map(\.bitPattern)
                }
                XCTAssertEqual(product(threads: 1), product(threads: 2), "\(m)x\(n)x\(k) transA \(transA) transB \(transB) beta \(beta)")
            }
        }
    }
}
