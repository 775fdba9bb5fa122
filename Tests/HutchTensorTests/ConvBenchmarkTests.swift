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
        // the same GEMM shape as one im2col product over the whole batch: 16 x 144 x 131072
        let (m, k, n) = (16, 144, 128 * 1024)
        let a = [Float](repeating: 0.1, count: m * k), b = [Float](repeating: 0.5, count: k * n)
        var c = [Float](repeating: 0, count: m * n)
        let gemmSame = time(5) { Float.gemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: k, b: b, ldb: n, beta: 0, c: &c, ldc: n) }
        // and a square GEMM of about the same FLOPs (the machine's peak)
        let s = Int(pow(flops / 2, 1.0 / 3.0).rounded())
        let sa = [Float](repeating: 0.1, count: s * s)
        var sc = [Float](repeating: 0, count: s * s)
        let gemmSquare = time(5) { Float.gemm(transA: false, transB: false, m: s, n: s, k: s, alpha: 1, a: sa, lda: s, b: sa, ldb: s, beta: 0, c: &sc, ldc: s) }
        func rate(_ t: Double, _ f: Double = flops) -> String { String(format: "%7.3f ms %6.1f GFLOP/s", t * 1e3, f / t / 1e9) }
        print("conv 128x16x32x32 3x3 16->16 (\(String(format: "%.2f", flops / 1e9)) GFLOP)")
        print("  forward         \(rate(fwd))")
        print("  backward data   \(rate(bwdData))")
        print("  backward weight \(rate(bwdWeight))")
        print("  sgemm 16x144x131072 \(rate(gemmSame))")
        print("  sgemm \(s)^3       \(rate(gemmSquare, 2 * Double(s * s * s)))")
        var col = [Float](repeating: 0, count: k * 4096)
        let im = time(5) {
            for e in 0..<128 { x.withUnsafeBufferPointer { xp in col.withUnsafeMutableBufferPointer { cp in
                Kernels.im2col(g, x: xp.baseAddress! + e * g.inChannels * 1024, col: cp.baseAddress! + (e % 4) * 1024, ld: 4096) } } }
        }
        print("  im2col alone    \(rate(im))")
        for (mm, nn, kk, ta, tb) in [(131072, 16, 144, false, true), (131072, 16, 144, false, false), (16, 4096, 144, false, false), (4096, 16, 144, false, false), (16, 144, 131072, false, true), (144, 16, 131072, true, false), (144, 131072, 16, true, false)] {
            let a2 = [Float](repeating: 0.1, count: mm * kk), b2 = [Float](repeating: 0.5, count: kk * nn)
            var c2 = [Float](repeating: 0, count: mm * nn)
            let reps = max(1, 131072 * 16 * 144 / (mm * nn * kk))
            let t = time(3) { for _ in 0..<reps { Float.gemm(transA: ta, transB: tb, m: mm, n: nn, k: kk, alpha: 1, a: a2, lda: ta ? mm : kk, b: b2, ldb: tb ? kk : nn, beta: 0, c: &c2, ldc: nn) } }
            print("  sgemm m\(mm) n\(nn) k\(kk) tA\(ta) tB\(tb) x\(reps): \(rate(t, 2 * Double(mm * nn * kk * reps)))")
        }
    }
}
