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
}
