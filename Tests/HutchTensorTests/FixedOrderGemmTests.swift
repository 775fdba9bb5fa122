import HutchTensorAVX2
import HutchTestSupport
import XCTest
@testable import HutchTensor

/// `FixedOrderGemm` (through `Kernels.fixedOrderMultiply`): every element of C has the bits of
/// one scalar chain of fmas over k from zero, whatever the column count, the tail of a row, the
/// inner-dimension blocks or the vector width.
final class FixedOrderGemmTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(Kernels.cpuHasAVX2FMA, "this CPU has no AVX2 + FMA")
    }

    /// C from U as a [rows, k] matrix or (`transposed`) read from its transpose.
    func product(rows: Int, k: Int, columns: Int, transposed: Bool = false, avx512: Bool, seed: UInt64) -> (got: [UInt32], chain: [UInt32]) {
        var rng = SplitMix64(seed: seed)
        let a = (0..<(rows * k)).map { _ in Float(rng.symmetric()) }
        let at = (0..<(rows * k)).map { a[($0 % rows) * k + $0 / rows] }   // at[i * rows + r] = a[r * k + i]
        let v = (0..<(k * columns)).map { _ in Float(rng.symmetric()) } + [Float](repeating: .nan, count: FixedOrderGemm.readSlack)
        var c = [Float](repeating: .nan, count: rows * columns)
        Kernels.fixedOrderMultiply(u: transposed ? at : a, rowStride: transposed ? 1 : k, columnStride: transposed ? rows : 1,
                                   rows: rows, k: k, v: v, columns: columns, c: &c, avx512: avx512)
        var chain = [Float](repeating: 0, count: rows * columns)
        for r in 0..<rows {
            for j in 0..<columns {
                var s: Float = 0
                for i in 0..<k { s = s.addingProduct(a[r * k + i], v[i * columns + j]) }
                chain[r * columns + j] = s
            }
        }
        return (c.map(\.bitPattern), chain.map(\.bitPattern))
    }

    /// k = 0 (all zeros), rows 1-9 (blocks of 4 and a part), columns around one, two and three vectors of 8 and 16 and a
    /// 7x7 plane's 49, k across several blocks (`FixedOrderGemm.kBlock`: 512 or 256 at 8 lanes).
    func testEveryElementIsOneFmaChain() {
        for (rows, k, columns) in [(1, 3, 1), (2, 0, 9), (3, 17, 5), (4, 300, 8), (5, 257, 13), (7, 600, 24), (9, 513, 25), (8, 64, 49),
                                   (6, 1100, 50), (2, 40, 100)] {
            for transposed in [false, true] {
                let (got, chain) = product(rows: rows, k: k, columns: columns, transposed: transposed, avx512: false,
                                           seed: UInt64(rows * 1000 + k + columns))
                XCTAssertEqual(got, chain, "\(rows) x \(k) x \(columns), transposed \(transposed)")
            }
        }
    }

    func testAVX512BuildGivesTheSameBits() throws {
        try XCTSkipUnless(Kernels.cpuHasAVX512, "this CPU has no AVX-512")
        for (rows, k, columns) in [(5, 257, 13), (7, 600, 24), (9, 513, 40), (6, 1100, 50)] {
            let (got, chain) = product(rows: rows, k: k, columns: columns, avx512: true, seed: UInt64(rows + k + columns))
            XCTAssertEqual(got, chain, "\(rows) x \(k) x \(columns)")
        }
    }
}
