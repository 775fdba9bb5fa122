import HutchTestSupport
import XCTest
@testable import HutchTensor

/// The direct kernels at every output width (`PlaneVectors`: overlapping row tails from the
/// vector width up, masked lanes below it): each kernel the CPU runs, forced, gives the bits of
/// the AVX2 kernel in every store mode, and the AVX2 kernel the naive loop's values.
final class DirectConvWidthTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(Kernels.cpuHasAVX2FMA, "this CPU has no AVX2 + FMA: the direct kernels are never used")
    }

    func testEveryKernelGivesTheSameBitsAtEveryWidth() throws {
        var rng = TestRandom(seed: 38)
        // (height, width, kernel, stride): widths 1 ... 37 at 3x3 stride 1, strided and 7x7 ones
        var shapes = (1...37).map { (2 + $0 % 3, $0, 3, 1) }
        shapes += [(6, 15, 3, 2), (4, 29, 3, 2), (8, 14, 3, 2), (9, 23, 7, 2), (4, 8, 3, 1), (5, 8, 1, 1), (3, 19, 1, 1)]
        for (h, w, k, stride) in shapes {
            let g = try ConvGeometry(input: [2, 3, h, w], weight: [5, 3, k, k], strides: [stride, stride],
                                     pads: Array(repeating: k / 2, count: 4), dilations: [1, 1], group: 1)
            let s = try XCTUnwrap(Kernels.directShape(g), "\(h)x\(w)")
            var kernels: [Kernels.DirectKernel] = [.avx2]
            if Kernels.cpuHasAVX512 {
                kernels.append(.avx512Rows)
                if Kernels.directExpandedFits(s) { kernels.append(.avx512Expanded) }
            }
            let x = rng.array(g.inputCount), wt = rng.array(2 * g.weightCount)
            let (xf, wf) = (x.map(Float.init), wt.map(Float.init))
            let y0 = rng.array(2 * g.outputCount).map(Float.init)
            for (accumulate, addend) in [(false, false), (true, false), (false, true)] {
                var results = [[Float]]()
                for kernel in kernels {
                    // NaN where the result overwrites, so an output left unwritten shows
                    var y = accumulate ? y0 : [Float](repeating: .nan, count: y0.count)
                    y0.withUnsafeBufferPointer { a in
                        Kernels.directForward(g, blocks: 2, x: xf, xBlockStride: 0, w: wf, wBlockStride: g.weightCount, y: &y,
                                              accumulate: accumulate, addend: addend ? a.baseAddress! : nil, kernel: kernel)
                    }
                    results.append(y)
                }
                let name = "\(h)x\(w) \(k)x\(k) stride \(stride) accumulate \(accumulate) addend \(addend)"
                for (kernel, y) in zip(kernels, results).dropFirst() {
                    XCTAssertEqual(y.map(\.bitPattern), results[0].map(\.bitPattern), "\(name) \(kernel)")
                }
                for b in 0..<2 {
                    let naive = naiveConv(g, x, Array(wt[(b * g.weightCount)..<((b + 1) * g.weightCount)]))
                    let got = (0..<g.outputCount).map {
                        Double(results[0][b * g.outputCount + $0]) - (accumulate || addend ? Double(y0[b * g.outputCount + $0]) : 0)
                    }
                    XCTAssertLessThan(maxRelativeError(got, naive), 1e-5, "\(name) block \(b)")
                }
            }
        }
    }
}
