import XCTest
import Foundation
@testable import HutchTensor

/// A release-mode micro-benchmark, printed, never asserted on: Float conv on a ResNet-20 layer
/// (128 x 16 x 32 x 32, 3x3, 16 -> 16, pad 1) against cblas_sgemm of the same FLOPs.
/// Runs only with HUTCH_BENCH=1 so that `swift test` stays quick.
final class ConvBenchmarkTests: XCTestCase {
    func time(_ repeats: Int, _ body: () -> Void) -> Double {
        body()
        var best = Double.infinity
        for _ in 0..<repeats {
            let t0 = DispatchTime.now().uptimeNanoseconds
            body()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        return best
    }

    func testConvThroughputAgainstGemm() throws {
        guard ProcessInfo.processInfo.environment["HUTCH_BENCH"] == "1" else { throw XCTSkip("set HUTCH_BENCH=1") }
        let g = try ConvGeometry(input: [128, 16, 32, 32], weight: [16, 16, 3, 3], strides: [1, 1], pads: [1, 1, 1, 1],
                                 dilations: [1, 1], group: 1)
        let flops = 2.0 * Double(g.outputCount) * Double(g.patchSize)
        let x = [Float](repeating: 0.5, count: g.inputCount), w = [Float](repeating: 0.1, count: g.weightCount)
        var y = [Float](repeating: 0, count: g.outputCount)
        var dx = [Float](repeating: 0, count: g.inputCount), dw = [Float](repeating: 0, count: g.weightCount)
        let fwd = time(5) { Kernels.conv2DForward(g, blocks: 1, x: x, xBlockStride: 0, w: w, wBlockStride: 0, y: &y, accumulate: false) }
        let bwdData = time(5) { Kernels.conv2DBackwardData(g, blocks: 1, dy: y, dyBlockStride: 0, w: w, wBlockStride: 0, dx: &dx, accumulate: false) }
        let bwdWeight = time(5) { Kernels.conv2DBackwardWeight(g, blocks: 1, x: x, xBlockStride: 0, dy: y, dyBlockStride: 0, dw: &dw, accumulate: false) }
        // cblas_sgemm of the same shape (one im2col product over the whole batch) and a square one
        // of about the same FLOPs, with OpenBLAS on one thread and on all (Kernels.gemm)
        let (m, k, n) = (16, 144, 128 * 1024)
        let a = [Float](repeating: 0.1, count: m * k), b = [Float](repeating: 0.5, count: k * n)
        var c = [Float](repeating: 0, count: m * n)
        let s = Int(pow(flops / 2, 1.0 / 3.0).rounded())
        let sa = [Float](repeating: 0.1, count: s * s)
        var sc = [Float](repeating: 0, count: s * s)
        func rate(_ t: Double, _ f: Double = flops) -> String { String(format: "%7.3f ms %6.1f GFLOP/s", t * 1e3, f / t / 1e9) }
        print("conv 128x16x32x32 3x3 16->16 (\(String(format: "%.2f", flops / 1e9)) GFLOP), \(Kernels.threads) threads")
        print("  forward         \(rate(fwd))")
        print("  backward data   \(rate(bwdData))")
        print("  backward weight \(rate(bwdWeight))")
        let same1 = time(5) { Float.gemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: k, b: b, ldb: n, beta: 0, c: &c, ldc: n) }
        let sameAll = time(5) { Kernels.gemm(transA: false, transB: false, m: m, n: n, k: k, alpha: Float(1), a: a, lda: k, b: b, ldb: n, beta: 0, c: &c, ldc: n) }
        let square1 = time(5) { Float.gemm(transA: false, transB: false, m: s, n: s, k: s, alpha: 1, a: sa, lda: s, b: sa, ldb: s, beta: 0, c: &sc, ldc: s) }
        let squareAll = time(5) { Kernels.gemm(transA: false, transB: false, m: s, n: s, k: s, alpha: Float(1), a: sa, lda: s, b: sa, ldb: s, beta: 0, c: &sc, ldc: s) }
        print("  sgemm 16x144x131072, 1 thread    \(rate(same1))")
        print("  sgemm 16x144x131072, all threads \(rate(sameAll))")
        print("  sgemm \(s)^3, 1 thread           \(rate(square1, 2 * Double(s * s * s)))")
        print("  sgemm \(s)^3, all threads        \(rate(squareAll, 2 * Double(s * s * s)))")
    }
}
