import HutchTestSupport
import XCTest
@testable import HutchTensor

/// The direct AVX2 convolution (Kernels+DirectConv, HutchTensorAVX2) against the im2col path and
/// the naive loop, and its bit guarantees (threads, blocks). Skipped on CPUs without AVX2 + FMA.
final class DirectConvTests: XCTestCase {
    /// (input shape, weight shape, strides, pads): strides 1/2/3, pads 0-2 and asymmetric, 1x1,
    /// 3x3, 5x5, 7x7 and 3x1 kernels, 1-9 output channels (tails of the 4-channel blocks), output
    /// widths 8/16/24 and heights giving 1, 2 and 3 vectors in the last tile, and widths that are
    /// not multiples of 8: below 8 (masked lanes), between 8 and 16, and above (overlapping tails).
    let cases: [([Int], [Int], [Int], [Int])] = [
        ([2, 3, 8, 8], [5, 3, 3, 3], [1, 1], [1, 1, 1, 1]),
        ([1, 1, 4, 16], [1, 1, 3, 3], [1, 1], [1, 1, 1, 1]),
        ([3, 16, 8, 8], [16, 16, 3, 3], [1, 1], [1, 1, 1, 1]),
        ([2, 7, 6, 24], [9, 7, 3, 3], [1, 1], [0, 1, 2, 1]),
        ([2, 4, 16, 16], [6, 4, 3, 3], [2, 2], [1, 1, 1, 1]),
        ([1, 5, 17, 33], [3, 5, 3, 3], [2, 2], [1, 0, 0, 0]),
        ([2, 6, 16, 16], [8, 6, 1, 1], [2, 2], [0, 0, 0, 0]),
        ([2, 6, 5, 8], [4, 6, 1, 1], [1, 1], [0, 0, 0, 0]),
        ([1, 3, 9, 16], [2, 3, 5, 5], [1, 1], [2, 2, 2, 2]),
        ([1, 4, 10, 24], [7, 4, 3, 1], [1, 3], [1, 0, 1, 0]),
        ([2, 32, 4, 8], [12, 32, 3, 3], [1, 1], [1, 1, 1, 1]),
        ([1, 2, 3, 9], [2, 2, 2, 2], [1, 1], [0, 0, 0, 0]),
        ([1, 3, 8, 48], [4, 3, 3, 3], [2, 2], [1, 1, 1, 1]),    // wide stride-2 rows: vector de-interleave, both phases
        ([2, 6, 7, 7], [5, 6, 3, 3], [1, 1], [1, 1, 1, 1]),      // OW 7 (ResNet's last stage)
        ([1, 5, 14, 14], [6, 5, 3, 3], [1, 1], [1, 1, 1, 1]),    // OW 14
        ([1, 3, 5, 28], [4, 3, 3, 3], [1, 1], [1, 1, 1, 1]),     // OW 28
        ([2, 4, 14, 14], [3, 4, 3, 3], [2, 2], [1, 1, 1, 1]),    // stride 2 to OW 7
        ([1, 3, 20, 22], [5, 3, 7, 7], [2, 2], [3, 3, 3, 3]),    // the 7x7 stride-2 stem's geometry, OW 11
        ([1, 2, 3, 5], [3, 2, 3, 3], [1, 1], [0, 0, 0, 0]),      // OW 3, one row of one vector
    ]

    func geometry(_ c: ([Int], [Int], [Int], [Int])) throws -> ConvGeometry {
        try ConvGeometry(input: c.0, weight: c.1, strides: c.2, pads: c.3, dilations: [1, 1], group: 1)
    }

    override func setUpWithError() throws {
        try XCTSkipUnless(Kernels.cpuHasAVX2FMA, "this CPU has no AVX2 + FMA: the direct kernel is never used")
    }

    func direct(_ g: ConvGeometry, blocks: Int = 1, x: [Float], xBlockStride: Int = 0, w: [Float], wBlockStride: Int = 0,
                y: [Float], accumulate: Bool, workers: Int = Kernels.threads) -> [Float] {
        var y = y
        Kernels.directForward(g, blocks: blocks, x: x, xBlockStride: xBlockStride, w: w, wBlockStride: wBlockStride, y: &y,
                              accumulate: accumulate, workers: workers)
        return y
    }

    func im2col(_ g: ConvGeometry, blocks: Int = 1, x: [Float], xBlockStride: Int = 0, w: [Float], wBlockStride: Int = 0,
                y: [Float], accumulate: Bool) -> [Float] {
        var y = y
        Kernels.conv2DForwardIm2col(g, blocks: blocks, x: x, xBlockStride: xBlockStride, w: w, wBlockStride: wBlockStride,
                                    y: &y, accumulate: accumulate)
        return y
    }

    func testDirectMatchesIm2colAndNaiveLoop() throws {
        var rng = TestRandom(seed: 31)
        for c in cases {
            let g = try geometry(c)
            XCTAssertNotNil(Kernels.directShape(g), "\(c)")
            let x = rng.array(g.inputCount), w = rng.array(g.weightCount)
            let (xf, wf) = (x.map(Float.init), w.map(Float.init))
            for accumulate in [false, true] {
                let y0 = rng.array(g.outputCount).map(Float.init)
                let d = direct(g, x: xf, w: wf, y: y0, accumulate: accumulate)
                let r = im2col(g, x: xf, w: wf, y: y0, accumulate: accumulate)
                let naive = naiveConv(g, x, w)
                let expected = accumulate ? zip(naive, y0).map { $0 + Double($1) } : naive
                XCTAssertLessThan(maxRelativeError(d.map(Double.init), expected), 1e-5, "\(c) accumulate \(accumulate)")
                XCTAssertLessThan(maxRelativeError(d.map(Double.init), r.map(Double.init)), 1e-5, "\(c) accumulate \(accumulate)")
            }
        }
    }

    /// conv2DForward dispatches to the direct kernel exactly for kernels larger than 1x1 (no
    /// groups, no dilations; any output width), and stays correct otherwise.
    func testDispatchAndFallbacks() throws {
        var rng = TestRandom(seed: 32)
        // (geometry, name, whether the direct kernel can run it, whether conv2DForward picks it)
        let geometries: [(ConvGeometry, String, Bool, Bool)] = [
            (try geometry(([1, 4, 6, 16], [4, 4, 3, 3], [1, 1], [1, 1, 1, 1])), "3x3 OW 16", true, true),
            (try geometry(([2, 4, 7, 15], [5, 4, 3, 3], [2, 2], [1, 1, 1, 1])), "3x3 stride 2 OW 8", true, true),
            (try geometry(([1, 4, 6, 12], [4, 4, 3, 3], [1, 1], [1, 1, 1, 1])), "OW 12", true, true),
            (try geometry(([1, 4, 6, 20], [4, 4, 3, 3], [1, 1], [0, 0, 0, 0])), "OW 18", true, true),
            (try geometry(([1, 4, 6, 5], [4, 4, 3, 3], [1, 1], [1, 1, 1, 1])), "OW 5", true, true),
            (try ConvGeometry(input: [1, 4, 6, 16], weight: [4, 2, 3, 3], strides: [1, 1], pads: [1, 1, 1, 1],
                              dilations: [1, 1], group: 2), "groups", false, false),
            (try ConvGeometry(input: [1, 4, 6, 20], weight: [4, 4, 3, 3], strides: [1, 1], pads: [0, 0, 0, 0],
                              dilations: [2, 2], group: 1), "dilation", false, false),
            (try geometry(([1, 4, 6, 16], [4, 4, 1, 1], [1, 1], [0, 0, 0, 0])), "1x1", true, false),
        ]
        for (g, name, fits, picked) in geometries {
            XCTAssertEqual(Kernels.directShape(g) != nil, fits, name)
            XCTAssertEqual(Kernels.directApplies(g), picked && Kernels.directConvEnabled, name)
            let x = rng.array(g.inputCount), w = rng.array(g.weightCount)
            var y = [Float](repeating: 0, count: g.outputCount)
            Kernels.conv2DForward(g, blocks: 1, x: x.map(Float.init), xBlockStride: 0, w: w.map(Float.init), wBlockStride: 0,
                                  y: &y, accumulate: false)
            XCTAssertLessThan(maxRelativeError(y.map(Double.init), naiveConv(g, x, w)), 1e-5, name)
        }
    }

    /// Every example is summed by one thread in a fixed order: 1, 2, 3 and 7 workers give the same bits.
    func testBitsDoNotDependOnThreadCount() throws {
        var rng = TestRandom(seed: 33)
        for c in [cases[0], cases[4], cases[10], cases[13], cases[16]] {
            let g = try geometry(c).withBatch(5)
            let blocks = 2
            let x = rng.array(blocks * g.inputCount).map(Float.init), w = rng.array(blocks * g.weightCount).map(Float.init)
            let y0 = rng.array(blocks * g.outputCount).map(Float.init)
            for (xs, ws) in [(0, g.weightCount), (g.inputCount, 0), (g.inputCount, g.weightCount)] {
                let one = direct(g, blocks: blocks, x: x, xBlockStride: xs, w: w, wBlockStride: ws, y: y0, accumulate: true,
                                 workers: 1)
                for workers in [2, 3, 7] {
                    let many = direct(g, blocks: blocks, x: x, xBlockStride: xs, w: w, wBlockStride: ws, y: y0, accumulate: true,
                                      workers: workers)
                    XCTAssertEqual(many.map(\.bitPattern), one.map(\.bitPattern), "\(c) strides \(xs) \(ws) workers \(workers)")
                }
            }
        }
    }

    /// Blocks sharing x, sharing w, or with their own of both, accumulating or not, through
    /// conv2DForward: each block has the bits of a single-block call, and the naive loop's values.
    func testBlocksAreBitIdenticalToSingleCalls() throws {
        var rng = TestRandom(seed: 34)
        for c in [cases[2], cases[3], cases[5], cases[14], cases[15]] {
            let g = try geometry(c)
            XCTAssertTrue(Kernels.directApplies(g))
            let blocks = 3
            let x = rng.array(blocks * g.inputCount).map(Float.init), w = rng.array(blocks * g.weightCount).map(Float.init)
            for (xs, ws) in [(0, g.weightCount), (g.inputCount, 0), (g.inputCount, g.weightCount)] {
                for accumulate in [false, true] {
                    let y0 = rng.array(blocks * g.outputCount).map(Float.init)
                    var y = y0
                    Kernels.conv2DForward(g, blocks: blocks, x: x, xBlockStride: xs, w: w, wBlockStride: ws, y: &y,
                                          accumulate: accumulate)
                    for b in 0..<blocks {
                        let xb = Array(x[(b * xs)..<(b * xs + g.inputCount)]), wb = Array(w[(b * ws)..<(b * ws + g.weightCount)])
                        let range = (b * g.outputCount)..<((b + 1) * g.outputCount)
                        var single = Array(y0[range])
                        Kernels.conv2DForward(g, blocks: 1, x: xb, xBlockStride: 0, w: wb, wBlockStride: 0, y: &single,
                                              accumulate: accumulate)
                        XCTAssertEqual(single.map(\.bitPattern), y[range].map(\.bitPattern), "\(c) \(xs) \(ws) \(accumulate) block \(b)")
                        let got = (0..<g.outputCount).map { Double(single[$0]) - (accumulate ? Double(y0[range.lowerBound + $0]) : 0) }
                        XCTAssertLessThan(maxRelativeError(got, naiveConv(g, xb.map(Double.init), wb.map(Double.init))), 1e-5,
                                          "\(c) block \(b)")
                    }
                }
            }
        }
    }

    /// The stride-1 data gradient runs as a forward convolution with flipped weights (the direct
    /// path, or the per-example Winograd where the table picks it): against the naive adjoint;
    /// the direct kernel's weights packed flipped from w give the bits of explicitly flipped ones.
    func testStrideOneDataGradientMatchesAdjoint() throws {
        var rng = TestRandom(seed: 35)
        for c in [cases[0], cases[2], cases[3], cases[13], cases[14]] {
            let g = try geometry(c)
            let t = try XCTUnwrap(g.strideOneTranspose)
            XCTAssertTrue(Kernels.directApplies(t), "\(c)")
            let w = rng.array(g.weightCount), dy = rng.array(g.outputCount)
            var dx = [Float](repeating: 0, count: g.inputCount)
            Kernels.conv2DBackwardData(g, blocks: 1, dy: dy.map(Float.init), dyBlockStride: 0, w: w.map(Float.init),
                                       wBlockStride: 0, dx: &dx, accumulate: false)
            for i in stride(from: 0, to: g.inputCount, by: 7) {
                var e = [Double](repeating: 0, count: g.inputCount); e[i] = 1
                XCTAssertEqual(Double(dx[i]), dot(naiveConv(g, e, w), dy), accuracy: 1e-4, "\(c) input \(i)")
            }
            // packed straight from w (per block): the bits of the forward kernel on explicitly flipped weights
            let blocks = 3
            let wk = rng.array(blocks * g.weightCount).map(Float.init), dyk = rng.array(blocks * g.outputCount).map(Float.init)
            var packedFromW = [Float](repeating: 0, count: blocks * g.inputCount)
            Kernels.directForward(t, blocks: blocks, x: dyk, xBlockStride: g.outputCount, w: wk, wBlockStride: g.weightCount,
                                  y: &packedFromW, accumulate: false, weights: .flippedTransposed)
            var flipped = [Float](repeating: 0, count: blocks * g.weightCount)
            Kernels.flippedTransposedWeights(g, blocks: blocks, w: wk, into: &flipped)
            let viaFlipped = direct(t, blocks: blocks, x: dyk, xBlockStride: g.outputCount, w: flipped, wBlockStride: g.weightCount,
                                    y: [Float](repeating: 0, count: blocks * g.inputCount), accumulate: false)
            XCTAssertEqual(packedFromW.map(\.bitPattern), viaFlipped.map(\.bitPattern), "\(c)")
        }
    }

    /// Strided data gradients (stride phases on the direct kernel): against the naive adjoint and
    /// the GEMM + col2im path, accumulating or not; blocks and thread counts do not change bits.
    func testStridedDataGradientMatchesAdjointAndIsBitStable() throws {
        var rng = TestRandom(seed: 36)
        let strided: [([Int], [Int], [Int], [Int])] = [
            ([2, 4, 16, 16], [6, 4, 3, 3], [2, 2], [1, 1, 1, 1]),
            ([1, 3, 8, 48], [5, 3, 3, 3], [2, 2], [0, 1, 1, 0]),
            ([2, 5, 6, 24], [3, 5, 2, 4], [2, 3], [1, 2, 0, 1]),
            ([1, 2, 4, 32], [4, 2, 5, 5], [2, 2], [2, 2, 2, 2]),
            ([2, 5, 14, 14], [4, 5, 3, 3], [2, 2], [1, 1, 1, 1]),   // phases 7 wide (ResNet's 14 -> 7)
            ([1, 3, 8, 24], [5, 3, 3, 3], [2, 2], [1, 1, 1, 1]),    // phases 12 wide
            ([1, 2, 6, 6], [3, 2, 3, 3], [2, 2], [0, 0, 0, 0]),     // phases 3 wide, taps past the output
        ]
        for c in strided {
            let g = try geometry(c)
            XCTAssertTrue(Kernels.directDataApplies(g), "\(c)")
            let w = rng.array(g.weightCount), dy = rng.array(g.outputCount)
            let (wf, dyf) = (w.map(Float.init), dy.map(Float.init))
            for accumulate in [false, true] {
                let dx0 = rng.array(g.inputCount).map(Float.init)
                var dx = dx0, reference = dx0
                Kernels.conv2DBackwardData(g, blocks: 1, dy: dyf, dyBlockStride: 0, w: wf, wBlockStride: 0, dx: &dx, accumulate: accumulate)
                Kernels.conv2DBackwardDataIm2col(g, blocks: 1, dy: dyf, dyBlockStride: 0, w: wf, wBlockStride: 0, dx: &reference,
                                                 accumulate: accumulate)
                XCTAssertLessThan(maxRelativeError(dx.map(Double.init), reference.map(Double.init)), 1e-5, "\(c) \(accumulate)")
                for i in stride(from: 0, to: g.inputCount, by: 5) {
                    var e = [Double](repeating: 0, count: g.inputCount); e[i] = 1
                    let expected = dot(naiveConv(g, e, w), dy) + (accumulate ? Double(dx0[i]) : 0)
                    XCTAssertEqual(Double(dx[i]), expected, accuracy: 1e-4, "\(c) input \(i)")
                }
            }
            // 3 blocks: sharing dy, sharing w, own of both; against single-block calls and 1 worker
            let blocks = 3
            let wk = rng.array(blocks * g.weightCount).map(Float.init), dyk = rng.array(blocks * g.outputCount).map(Float.init)
            let dx0 = rng.array(blocks * g.inputCount).map(Float.init)
            for (ys, ws) in [(0, g.weightCount), (g.outputCount, 0), (g.outputCount, g.weightCount)] {
                var dx = dx0
                Kernels.conv2DBackwardData(g, blocks: blocks, dy: dyk, dyBlockStride: ys, w: wk, wBlockStride: ws, dx: &dx,
                                           accumulate: true)
                var one = dx0
                Kernels.directBackwardData(g, blocks: blocks, dy: dyk, dyBlockStride: ys, w: wk, wBlockStride: ws, dx: &one,
                                           accumulate: true, workers: 1)
                XCTAssertEqual(one.map(\.bitPattern), dx.map(\.bitPattern), "\(c) workers")
                for b in 0..<blocks {
                    let range = (b * g.inputCount)..<((b + 1) * g.inputCount)
                    var single = Array(dx0[range])
                    Kernels.conv2DBackwardData(g, blocks: 1, dy: Array(dyk[(b * ys)..<(b * ys + g.outputCount)]), dyBlockStride: 0,
                                               w: Array(wk[(b * ws)..<(b * ws + g.weightCount)]), wBlockStride: 0, dx: &single,
                                               accumulate: true)
                    XCTAssertEqual(single.map(\.bitPattern), dx[range].map(\.bitPattern), "\(c) \(ys) \(ws) block \(b)")
                }
            }
        }
        // 1x1 strided kernels go pointwise, not here; sizes that are not multiples of the stride keep GEMM + col2im
        XCTAssertFalse(Kernels.directDataApplies(try geometry(([1, 4, 16, 16], [4, 4, 1, 1], [2, 2], [0, 0, 0, 0]))))
        XCTAssertNil(Kernels.directDataPhases(try geometry(([1, 4, 16, 17], [4, 4, 3, 3], [2, 2], [1, 1, 1, 1]))))
        XCTAssertNil(Kernels.directDataPhases(try geometry(([1, 4, 15, 16], [4, 4, 3, 3], [2, 2], [1, 1, 1, 1]))))
    }

    /// An addend added as the kernel stores (forward and data gradient; direct, expanded,
    /// pointwise and GEMM paths) gives the bits of copying it into y and accumulating.
    func testAddendGivesTheBitsOfCopyThenAccumulate() throws {
        var rng = TestRandom(seed: 37)
        let shapes: [([Int], [Int], [Int], [Int])] = [cases[0], cases[4], cases[6], cases[10], cases[11], cases[13], cases[14],
                                                      ([2, 8, 8, 8], [8, 8, 3, 3], [1, 1], [1, 1, 1, 1])]
        for c in shapes {
            let g = try geometry(c)
            let blocks = 2
            let x = rng.array(g.inputCount).map(Float.init), w = rng.array(blocks * g.weightCount).map(Float.init)
            let addY = rng.array(blocks * g.outputCount).map(Float.init)
            var fused = [Float](repeating: 0, count: blocks * g.outputCount), reference = addY
            Kernels.conv2DForward(g, blocks: blocks, x: x, xBlockStride: 0, w: w, wBlockStride: g.weightCount, y: &fused,
                                  accumulate: false, addend: addY)
            Kernels.conv2DForward(g, blocks: blocks, x: x, xBlockStride: 0, w: w, wBlockStride: g.weightCount, y: &reference,
                                  accumulate: true)
            XCTAssertEqual(fused.map(\.bitPattern), reference.map(\.bitPattern), "forward \(c)")
            let dy = rng.array(blocks * g.outputCount).map(Float.init), addX = rng.array(blocks * g.inputCount).map(Float.init)
            var fusedX = [Float](repeating: 0, count: blocks * g.inputCount), referenceX = addX
            Kernels.conv2DBackwardData(g, blocks: blocks, dy: dy, dyBlockStride: g.outputCount, w: w, wBlockStride: 0,
                                       dx: &fusedX, accumulate: false, addend: addX)
            Kernels.conv2DBackwardData(g, blocks: blocks, dy: dy, dyBlockStride: g.outputCount, w: w, wBlockStride: 0,
                                       dx: &referenceX, accumulate: true)
            XCTAssertEqual(fusedX.map(\.bitPattern), referenceX.map(\.bitPattern), "data gradient \(c)")
        }
    }

    /// The AVX-512 kernel (16-column vectors, OW a multiple of 16) and the AVX2 one sum every
    /// element in the same order with FMAs, so they give the same bits; both match the naive loop.
    func testAVX512KernelGivesTheBitsOfTheAVX2Kernel() throws {
        try XCTSkipUnless(Kernels.cpuHasAVX512, "this CPU has no AVX-512")
        var rng = TestRandom(seed: 37)
        let wide: [([Int], [Int], [Int], [Int])] = [
            ([2, 3, 8, 16], [5, 3, 3, 3], [1, 1], [1, 1, 1, 1]),
            ([1, 16, 7, 32], [16, 16, 3, 3], [1, 1], [1, 1, 1, 1]),
            ([2, 4, 9, 64], [6, 4, 3, 3], [2, 2], [1, 1, 1, 1]),
            ([1, 5, 6, 48], [9, 5, 1, 1], [1, 1], [0, 0, 0, 0]),
            ([2, 6, 8, 8], [7, 6, 3, 3], [1, 1], [1, 1, 1, 1]),     // OW 8: expanded to two-row vectors
            ([1, 5, 12, 16], [4, 5, 3, 3], [2, 2], [1, 1, 1, 1]),   // OW 8, stride 2, 6 rows
            ([1, 3, 2, 8], [5, 3, 2, 3], [1, 1], [0, 1, 1, 1]),     // OW 8, one 16-column vector
            ([1, 5, 14, 14], [6, 5, 3, 3], [1, 1], [1, 1, 1, 1]),   // OW 14: masked 16-column rows
            ([1, 3, 5, 28], [4, 3, 3, 3], [1, 1], [1, 1, 1, 1]),    // OW 28: overlapping 16-column tails
        ]
        for c in wide {
            let g = try geometry(c)
            let s = try XCTUnwrap(Kernels.directShape(g))
            XCTAssertNotEqual(Kernels.directKernel(s, allowed: true), .avx2, "\(c)")
            let blocks = 2
            let x = rng.array(blocks * g.inputCount), w = rng.array(blocks * g.weightCount)
            let (xf, wf) = (x.map(Float.init), w.map(Float.init))
            for accumulate in [false, true] {
                let y0 = rng.array(blocks * g.outputCount).map(Float.init)
                var y512 = y0, y256 = y0
                Kernels.directForward(g, blocks: blocks, x: xf, xBlockStride: g.inputCount, w: wf, wBlockStride: g.weightCount,
                                      y: &y512, accumulate: accumulate, avx512: true)
                Kernels.directForward(g, blocks: blocks, x: xf, xBlockStride: g.inputCount, w: wf, wBlockStride: g.weightCount,
                                      y: &y256, accumulate: accumulate, avx512: false)
                XCTAssertEqual(y512.map(\.bitPattern), y256.map(\.bitPattern), "\(c) \(accumulate)")
                let naive = naiveConv(g, Array(x[..<g.inputCount]), Array(w[..<g.weightCount]))
                let got = (0..<g.outputCount).map { Double(y512[$0]) - (accumulate ? Double(y0[$0]) : 0) }
                XCTAssertLessThan(maxRelativeError(got, naive), 1e-5, "\(c)")
            }
        }
        // strided data gradients: 16-column phases, 8-column phases (expanded), 14-column phases
        for c in [([2, 4, 8, 32], [6, 4, 3, 3], [2, 2], [1, 1, 1, 1]), ([2, 4, 16, 16], [6, 4, 3, 3], [2, 2], [1, 1, 1, 1]),
                  ([1, 4, 28, 28], [6, 4, 3, 3], [2, 2], [1, 1, 1, 1])] {
            let g = try geometry(c)
            let w = rng.array(g.weightCount).map(Float.init), dy = rng.array(g.outputCount).map(Float.init)
            var d512 = [Float](repeating: 0, count: g.inputCount), d256 = d512
            Kernels.directBackwardData(g, blocks: 1, dy: dy, dyBlockStride: 0, w: w, wBlockStride: 0, dx: &d512, accumulate: false,
                                       avx512: true)
            Kernels.directBackwardData(g, blocks: 1, dy: dy, dyBlockStride: 0, w: w, wBlockStride: 0, dx: &d256, accumulate: false,
                                       avx512: false)
            XCTAssertEqual(d512.map(\.bitPattern), d256.map(\.bitPattern), "\(c)")
        }
    }
}
