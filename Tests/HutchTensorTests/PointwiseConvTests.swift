import HutchTestSupport
import XCTest
@testable import HutchTensor

/// The pointwise path (Kernels+Pointwise: 1x1 kernels, pads 0, any stride) against the naive
/// loop and the im2col path, on both of its engines (the direct kernel on the flat shape, and
/// the per-example GEMM), and its bit guarantees: blocks, threads and the batch split.
final class PointwiseConvTests: XCTestCase {
    /// (input shape, weight shape, strides): strides 1, 2, 3 and mixed, odd sizes, OH*OW a
    /// multiple of 16 (AVX-512 rows), of 8 only (AVX2), of neither (overlapping last vector) and
    /// below 8 (GEMM engine), rows wide enough for the vector gather / scatter of stride 2, the
    /// two ResNet-20 shortcuts and ImageNet's 7x7 ones.
    let cases: [([Int], [Int], [Int])] = [
        ([2, 6, 16, 16], [8, 6, 1, 1], [2, 2]),      // OH*OW 64
        ([1, 5, 17, 33], [3, 5, 1, 1], [2, 2]),      // 9 x 17: overlapping last vector
        ([2, 16, 8, 8], [12, 16, 1, 1], [1, 1]),     // stride 1, 64 positions
        ([3, 4, 9, 13], [7, 4, 1, 1], [3, 3]),       // stride 3, 3 x 5
        ([2, 3, 12, 16], [5, 3, 1, 1], [3, 2]),      // mixed strides, 4 x 8
        ([1, 8, 4, 6], [9, 8, 1, 1], [1, 1]),        // 24 positions: AVX2 only
        ([1, 3, 6, 40], [4, 3, 1, 1], [2, 2]),       // wide stride-2 rows, vector tail
        ([2, 5, 7, 34], [6, 5, 1, 1], [1, 2]),       // stride 1 x 2, 7 x 17
        ([2, 16, 32, 32], [32, 16, 1, 1], [2, 2]),   // ResNet-20 16->32 shortcut
        ([2, 32, 16, 16], [64, 32, 1, 1], [2, 2]),   // ResNet-20 32->64 shortcut
        ([2, 6, 14, 14], [8, 6, 1, 1], [2, 2]),      // 7 x 7: ResNet-18's last shortcut
        ([2, 8, 7, 7], [12, 8, 1, 1], [1, 1]),       // 7 x 7, stride 1: ResNet-50's last stage
        ([1, 4, 4, 4], [3, 4, 1, 1], [2, 2]),        // 2 x 2: GEMM engine
    ]

    func geometry(_ c: ([Int], [Int], [Int])) throws -> ConvGeometry {
        try ConvGeometry(input: c.0, weight: c.1, strides: c.2, pads: [0, 0, 0, 0], dilations: [1, 1], group: 1)
    }

    /// dx of a 1x1 convolution from the definition: dx[n][ci][oy*sH][ox*sW] = sum_co w[co][ci] dy[n][co][oy][ox].
    func naiveAdjoint(_ g: ConvGeometry, _ dy: [Double], _ w: [Double]) -> [Double] {
        var dx = [Double](repeating: 0, count: g.inputCount)
        for n in 0..<g.batch {
            for ci in 0..<g.inChannels {
                for oy in 0..<g.outHeight {
                    for ox in 0..<g.outWidth {
                        var s = 0.0
                        for co in 0..<g.outChannels {
                            s += w[co * g.inChannels + ci] * dy[((n * g.outChannels + co) * g.outHeight + oy) * g.outWidth + ox]
                        }
                        dx[((n * g.inChannels + ci) * g.inHeight + oy * g.strideH) * g.inWidth + ox * g.strideW] = s
                    }
                }
            }
        }
        return dx
    }

    func forward(_ g: ConvGeometry, blocks: Int = 1, x: [Float], xBlockStride: Int = 0, w: [Float], wBlockStride: Int = 0,
                 y: [Float], accumulate: Bool, direct: Bool = true, workers: Int = Kernels.threads) -> [Float] {
        var y = y
        Kernels.pointwise(g, transposed: false, blocks: blocks, input: x, inputBlockStride: xBlockStride, w: w, wBlockStride: wBlockStride,
                          output: &y, accumulate: accumulate, workers: workers, direct: direct)
        return y
    }

    func backwardData(_ g: ConvGeometry, blocks: Int = 1, dy: [Float], dyBlockStride: Int = 0, w: [Float],
                      wBlockStride: Int = 0, dx: [Float], accumulate: Bool, direct: Bool = true,
                      workers: Int = Kernels.threads) -> [Float] {
        var dx = dx
        Kernels.pointwise(g, transposed: true, blocks: blocks, input: dy, inputBlockStride: dyBlockStride, w: w, wBlockStride: wBlockStride,
                          output: &dx, accumulate: accumulate, workers: workers, direct: direct)
        return dx
    }

    func testForwardMatchesNaiveLoopAndIm2col() throws {
        var rng = TestRandom(seed: 41)
        for c in cases {
            let g = try geometry(c)
            XCTAssertTrue(Kernels.isPointwise(g), "\(c)")
            let x = rng.array(g.inputCount), w = rng.array(g.weightCount)
            let (xf, wf) = (x.map(Float.init), w.map(Float.init))
            let naive = naiveConv(g, x, w)
            for accumulate in [false, true] {
                let y0 = rng.array(g.outputCount).map(Float.init)
                var reference = y0
                Kernels.conv2DForwardIm2col(g, blocks: 1, x: xf, xBlockStride: 0, w: wf, wBlockStride: 0, y: &reference,
                                            accumulate: accumulate)
                let expected = accumulate ? zip(naive, y0).map { $0 + Double($1) } : naive
                for direct in [true, false] {
                    let y = forward(g, x: xf, w: wf, y: y0, accumulate: accumulate, direct: direct)
                    let name = "\(c) accumulate \(accumulate) direct \(direct)"
                    XCTAssertLessThan(maxRelativeError(y.map(Double.init), expected), 1e-5, name)
                    XCTAssertLessThan(maxRelativeError(y.map(Double.init), reference.map(Double.init)), 1e-5, name)
                }
            }
        }
    }

    func testDataGradientMatchesNaiveAdjointAndIm2col() throws {
        var rng = TestRandom(seed: 42)
        for c in cases {
            let g = try geometry(c)
            let dy = rng.array(g.outputCount), w = rng.array(g.weightCount)
            let (dyf, wf) = (dy.map(Float.init), w.map(Float.init))
            let naive = naiveAdjoint(g, dy, w)
            for accumulate in [false, true] {
                // NaN where the result overwrites, so a position left unwritten shows
                let dx0 = accumulate ? rng.array(g.inputCount).map(Float.init) : [Float](repeating: .nan, count: g.inputCount)
                var reference = dx0
                Kernels.conv2DBackwardDataIm2col(g, blocks: 1, dy: dyf, dyBlockStride: 0, w: wf, wBlockStride: 0, dx: &reference,
                                                 accumulate: accumulate)
                let expected = accumulate ? zip(naive, dx0).map { $0 + Double($1) } : naive
                for direct in [true, false] {
                    let dx = backwardData(g, dy: dyf, w: wf, dx: dx0, accumulate: accumulate, direct: direct)
                    let name = "\(c) accumulate \(accumulate) direct \(direct)"
                    XCTAssertFalse(dx.contains(where: \.isNaN), name + ": a position was not written")
                    XCTAssertLessThan(maxRelativeError(dx.map(Double.init), expected), 1e-5, name)
                    XCTAssertLessThan(maxRelativeError(dx.map(Double.init), reference.map(Double.init)), 1e-5, name)
                }
            }
        }
        // the adjoint identity <conv(x), dy> = <x, conv_transpose(dy)> on one strided case
        let g = try geometry(cases[3])
        let x = rng.array(g.inputCount), w = rng.array(g.weightCount), dy = rng.array(g.outputCount)
        let dx = backwardData(g, dy: dy.map(Float.init), w: w.map(Float.init), dx: [Float](repeating: 0, count: g.inputCount),
                              accumulate: false)
        XCTAssertEqual(dot(x, dx.map(Double.init)), dot(naiveConv(g, x, w), dy), accuracy: 1e-4)
    }

    /// conv2DForward and conv2DBackwardData take the pointwise path for Float 1x1 geometries
    /// without pads, groups or dilations (bits of `Kernels.pointwise`), and stay correct for the rest.
    func testDispatch() throws {
        var rng = TestRandom(seed: 43)
        let pointwise = try geometry(cases[0])
        XCTAssertEqual(Kernels.pointwiseApplies(pointwise), Kernels.pointwiseEnabled)
        let others: [(ConvGeometry, String)] = [
            (try ConvGeometry(input: [1, 4, 6, 8], weight: [4, 4, 1, 1], strides: [1, 1], pads: [1, 0, 0, 0], dilations: [1, 1],
                              group: 1), "padded 1x1"),
            (try ConvGeometry(input: [1, 4, 6, 8], weight: [4, 2, 1, 1], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1],
                              group: 2), "grouped 1x1"),
            (try ConvGeometry(input: [1, 4, 6, 8], weight: [4, 4, 3, 3], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1],
                              group: 1), "3x3"),
            (try ConvGeometry(input: [1, 4, 6, 8], weight: [4, 4, 1, 3], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1],
                              group: 1), "1x3"),
        ]
        for (g, name) in others {
            XCTAssertFalse(Kernels.isPointwise(g), name)
            XCTAssertFalse(Kernels.pointwiseApplies(g), name)
            let x = rng.array(g.inputCount), w = rng.array(g.weightCount)
            var y = [Float](repeating: 0, count: g.outputCount)
            Kernels.conv2DForward(g, blocks: 1, x: x.map(Float.init), xBlockStride: 0, w: w.map(Float.init), wBlockStride: 0,
                                  y: &y, accumulate: false)
            XCTAssertLessThan(maxRelativeError(y.map(Double.init), naiveConv(g, x, w)), 1e-5, name)
        }
        try XCTSkipUnless(Kernels.pointwiseEnabled, "HUTCH_POINTWISE=0")
        for c in cases {
            let g = try geometry(c)
            let x = rng.array(g.inputCount).map(Float.init), w = rng.array(g.weightCount).map(Float.init)
            let dy = rng.array(g.outputCount).map(Float.init)
            var y = [Float](repeating: 0, count: g.outputCount), dx = [Float](repeating: 0, count: g.inputCount)
            Kernels.conv2DForward(g, blocks: 1, x: x, xBlockStride: 0, w: w, wBlockStride: 0, y: &y, accumulate: false)
            Kernels.conv2DBackwardData(g, blocks: 1, dy: dy, dyBlockStride: 0, w: w, wBlockStride: 0, dx: &dx, accumulate: false)
            let zeroY = [Float](repeating: 0, count: g.outputCount), zeroX = [Float](repeating: 0, count: g.inputCount)
            XCTAssertEqual(y.map(\.bitPattern), forward(g, x: x, w: w, y: zeroY, accumulate: false).map(\.bitPattern), "\(c)")
            XCTAssertEqual(dx.map(\.bitPattern), backwardData(g, dy: dy, w: w, dx: zeroX, accumulate: false).map(\.bitPattern), "\(c)")
        }
    }

    /// The direct engine sums like the direct kernel (fma from zero over ci in order), so where
    /// `directForward` runs the same geometry (OW a multiple of 8) it gives the same bits.
    func testDirectEngineHasTheBitsOfTheDirectKernel() throws {
        try XCTSkipUnless(Kernels.cpuHasAVX2FMA, "this CPU has no AVX2 + FMA: the direct engine is never used")
        var rng = TestRandom(seed: 44)
        for c in [cases[0], cases[1], cases[2], cases[4], cases[8], cases[9], cases[10], cases[11]] {
            let g = try geometry(c)
            XCTAssertNotNil(Kernels.pointwiseKernel(g, direct: true), "\(c)")
            XCTAssertNotNil(Kernels.directShape(g), "\(c)")
            let x = rng.array(g.inputCount).map(Float.init), w = rng.array(g.weightCount).map(Float.init)
            let y0 = rng.array(g.outputCount).map(Float.init)
            for accumulate in [false, true] {
                var reference = y0
                Kernels.directForward(g, blocks: 1, x: x, xBlockStride: 0, w: w, wBlockStride: 0, y: &reference,
                                      accumulate: accumulate)
                let y = forward(g, x: x, w: w, y: y0, accumulate: accumulate)
                XCTAssertEqual(y.map(\.bitPattern), reference.map(\.bitPattern), "\(c) accumulate \(accumulate)")
            }
        }
    }

    /// Blocks sharing x (dy), sharing w, or with their own of both, accumulating or not, on both
    /// engines: each block has the bits of a single-block call, at 1 and 3 threads and with 1
    /// and 3 workers, and each example the bits of a batch-1 call on that example.
    func testBitsDoNotDependOnBlocksThreadsOrBatchSplit() throws {
        var rng = TestRandom(seed: 45)
        XCTAssertNil(Kernels.pointwiseKernel(try geometry(cases[12]), direct: true), "fewer than 8 positions: GEMM engine")
        for c in [cases[0], cases[1], cases[2], cases[3], cases[9], cases[10], cases[12]] {
            let g = try geometry(c).withBatch(3)
            let blocks = 3
            let x = rng.array(blocks * g.inputCount).map(Float.init), w = rng.array(blocks * g.weightCount).map(Float.init)
            let dy = rng.array(blocks * g.outputCount).map(Float.init)
            let y0 = rng.array(blocks * g.outputCount).map(Float.init), dx0 = rng.array(blocks * g.inputCount).map(Float.init)
            for direct in [true, false] {
                for accumulate in [false, true] {
                    for (xs, ws) in [(0, g.weightCount), (g.inputCount, 0), (g.inputCount, g.weightCount)] {
                        let name = "\(c) direct \(direct) accumulate \(accumulate) strides \(xs) \(ws)"
                        let ys = xs == 0 ? 0 : g.outputCount   // dy shared like x
                        let y = Kernels.withThreads(1) {
                            forward(g, blocks: blocks, x: x, xBlockStride: xs, w: w, wBlockStride: ws, y: y0, accumulate: accumulate,
                                    direct: direct)
                        }
                        let dx = Kernels.withThreads(1) {
                            backwardData(g, blocks: blocks, dy: dy, dyBlockStride: ys, w: w, wBlockStride: ws, dx: dx0,
                                         accumulate: accumulate, direct: direct)
                        }
                        let y3 = Kernels.withThreads(3) {
                            forward(g, blocks: blocks, x: x, xBlockStride: xs, w: w, wBlockStride: ws, y: y0, accumulate: accumulate,
                                    direct: direct)
                        }
                        let dx3 = Kernels.withThreads(3) {
                            backwardData(g, blocks: blocks, dy: dy, dyBlockStride: ys, w: w, wBlockStride: ws, dx: dx0,
                                         accumulate: accumulate, direct: direct)
                        }
                        XCTAssertEqual(y3.map(\.bitPattern), y.map(\.bitPattern), name + " threads")
                        XCTAssertEqual(dx3.map(\.bitPattern), dx.map(\.bitPattern), name + " threads")
                        let yw = forward(g, blocks: blocks, x: x, xBlockStride: xs, w: w, wBlockStride: ws, y: y0,
                                         accumulate: accumulate, direct: direct, workers: 3)
                        XCTAssertEqual(yw.map(\.bitPattern), y.map(\.bitPattern), name + " workers")
                        for b in 0..<blocks {
                            let wb = Array(w[(b * ws)..<(b * ws + g.weightCount)])
                            let outRange = (b * g.outputCount)..<((b + 1) * g.outputCount)
                            let inRange = (b * g.inputCount)..<((b + 1) * g.inputCount)
                            let single = forward(g, x: Array(x[(b * xs)..<(b * xs + g.inputCount)]), w: wb, y: Array(y0[outRange]),
                                                 accumulate: accumulate, direct: direct)
                            XCTAssertEqual(single.map(\.bitPattern), y[outRange].map(\.bitPattern), name + " block \(b)")
                            let singleDx = backwardData(g, dy: Array(dy[(b * ys)..<(b * ys + g.outputCount)]), w: wb,
                                                        dx: Array(dx0[inRange]), accumulate: accumulate, direct: direct)
                            XCTAssertEqual(singleDx.map(\.bitPattern), dx[inRange].map(\.bitPattern), name + " data block \(b)")
                        }
                    }
                }
                // batch split: example e of a batch-3 call equals a batch-1 call on example e
                let one = g.withBatch(1)
                let yBatch = forward(g, x: Array(x[..<g.inputCount]), w: Array(w[..<g.weightCount]), y: Array(y0[..<g.outputCount]),
                                     accumulate: true, direct: direct)
                let dxBatch = backwardData(g, dy: Array(dy[..<g.outputCount]), w: Array(w[..<g.weightCount]),
                                           dx: Array(dx0[..<g.inputCount]), accumulate: false, direct: direct)
                for e in 0..<g.batch {
                    let (xr, yr) = ((e * one.inputCount)..<((e + 1) * one.inputCount), (e * one.outputCount)..<((e + 1) * one.outputCount))
                    let ye = forward(one, x: Array(x[xr]), w: Array(w[..<g.weightCount]), y: Array(y0[yr]), accumulate: true,
                                     direct: direct)
                    XCTAssertEqual(ye.map(\.bitPattern), yBatch[yr].map(\.bitPattern), "\(c) direct \(direct) example \(e)")
                    let dxe = backwardData(one, dy: Array(dy[yr]), w: Array(w[..<g.weightCount]), dx: Array(dx0[xr]),
                                           accumulate: false, direct: direct)
                    XCTAssertEqual(dxe.map(\.bitPattern), dxBatch[xr].map(\.bitPattern), "\(c) direct \(direct) data example \(e)")
                }
            }
        }
    }

    /// Double runs the GEMM engine (dgemm): against the naive loop and adjoint.
    func testDoubleMatchesNaiveLoop() throws {
        var rng = TestRandom(seed: 46)
        for c in cases.prefix(5) {
            let g = try geometry(c)
            let x = rng.array(g.inputCount), w = rng.array(g.weightCount), dy = rng.array(g.outputCount)
            var y = [Double](repeating: 0, count: g.outputCount), dx = [Double](repeating: .nan, count: g.inputCount)
            Kernels.pointwise(g, transposed: false, blocks: 1, input: x, inputBlockStride: 0, w: w, wBlockStride: 0, output: &y, accumulate: false)
            Kernels.pointwise(g, transposed: true, blocks: 1, input: dy, inputBlockStride: 0, w: w, wBlockStride: 0, output: &dx, accumulate: false)
            XCTAssertLessThan(maxRelativeError(y, naiveConv(g, x, w)), 1e-12, "\(c)")
            XCTAssertFalse(dx.contains(where: \.isNaN), "\(c): a position was not written")
            XCTAssertLessThan(maxRelativeError(dx, naiveAdjoint(g, dy, w)), 1e-12, "\(c)")
        }
    }
}
