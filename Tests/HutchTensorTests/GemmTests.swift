import XCTest
@testable import HutchTensor

final class TensorTests: XCTestCase {
    func testGemmMatchesHandComputedProduct() {
        let a: [Double] = [1, 2, 3, 4, 5, 6]      // 2x3
        let b: [Double] = [7, 8, 9, 10, 11, 12]   // 3x2
        var c = [Double](repeating: 0, count: 4)
        Double.gemm(transA: false, transB: false, m: 2, n: 2, k: 3, alpha: 1, a: a, lda: 3, b: b, ldb: 2,
                    beta: 0, c: &c, ldc: 2)
        XCTAssertEqual(c, [58, 64, 139, 154])
    }
}
