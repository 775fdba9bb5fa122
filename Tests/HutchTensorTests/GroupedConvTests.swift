import HutchTestSupport
import XCTest
@testable import HutchTensor

/// Grouped convolutions on the direct kernels per group (Kernels+GroupedConv) against the im2col
/// path (G GEMMs per chunk), the adjoint identity of its forward and data gradient, and its bit
/// guarantees: threads, blocks, AVX2 against AVX-512. Skipped on CPUs without AVX2 + FMA.
final class GroupedConvTests: XCTestCase {
    /// (batch, groups, C_in / G, C_out / G, H, W, kernel, stride, pads): groups 2-8 (and ResNeXt's
    /// 32), 2-16 channels per group, 1-16 output channels per group (tails of the 4-channel tiles),
    /// widths below 8, between 8 and 16 and above (masked and overlapping tails), strides 1 and 2
    /// (odd sizes at stride 2: the data gradient stays on im2col), pads 0-2 and asymmetric, 3x3 and
    /// 5x5 kernels.
    let cases: [(Int, Int, Int, Int, Int, Int, Int, Int, [Int])] = [
        (2, 2, 2, 4, 6, 9, 3, 1, [1, 1, 1, 1]),
        (1, 3, 4, 3, 5, 7, 3, 1, [1, 1, 1, 1]),
        (2, 4, 8, 8, 7, 14, 3, 1, [1, 1, 1, 1]),
        (1, 8, 2, 2, 4, 17, 3, 1, [0, 0, 0, 0]),
        (2, 5, 16, 5, 6, 12, 3, 2, [1, 1, 1, 1]),
        (1, 2, 16, 16, 8, 8, 3, 1, [1, 1, 1, 1]),
        (2, 6, 3, 9, 9, 13, 3, 2, [1, 1, 1, 1]),
        (3, 7, 4, 4, 3, 5, 3, 1, [1, 1, 1, 1]),
        (1, 4, 4, 4, 4, 28, 3, 1, [1, 1, 1, 1]),
        (1, 2, 6, 7, 10, 10, 5, 1, [2, 2, 2, 2]),
        (2, 3, 2, 6, 7, 7, 3, 2, [1, 1, 1, 1]),
        (1, 8, 8, 8, 14, 14, 3, 2, [1, 1, 1, 1]),
        (2, 2, 5, 1, 6, 12, 3, 1, [1, 1, 1, 1]),
        (1, 32, 4, 4, 7, 7, 3, 1, [1, 1, 1, 1]),
        (2, 3, 2, 4, 5, 8, 3, 1, [0, 1, 2, 1]),
        (1, 4, 3, 5, 10, 20, 3, 2, [1, 0, 0, 1]),
    ]

    func geometry(_ c: (Int, Int, Int, Int, Int, Int, Int, Int, [Int])) throws -> ConvGeometry {
        try ConvGeometry(input: [c.0, c.1 * c.2, c.4, c.5], weight: [c.1 * c.3, c.2, c.6, c.6], strides: [c.7, c.7],
                         pads: c.8, dilations: [1, 1], group: c.1)
    }

    override func setUpWithError() throws {
        try XCTSkipUnless(Kernels.cpuHasAVX2FMA, "this CPU has no AVX2 + FMA: the grouped kernels are never used")
    }

    /// The grouped kernel's output (forward: x -> y; transposed: dy -> dx) for `blocks` blocks.
    func grouped(_ g: ConvGeometry, transposed: Bool, blocks: Int, input: [Float], inputStride: Int, w: [Float], wStride: Int,
                 output: [Float], accumulate: Bool, workers: Int = Kernels.threads,
                 avx512: Bool = Kernels.directAVX512Enabled) -> [Float] {
        var out = output
        Kernels.groupedDirect(g, transposed: transposed, blocks: blocks, input: input, inputBlockStride: inputStride, w: w,
                              wBlockStride: wStride, output: &out, accumulate: accumulate, workers: workers, avx512: avx512)
        return out
    }

    /// The im2col path's output for the same call (GEMM + col2im for the data gradient).
    func im2col(_ g: ConvGeometry, transposed: Bool, blocks: Int, input: [Float], inputStride: Int, w: [Float], wStride: Int,
                output: [Float], accumulate: Bool) -> [Float] {
        var out = output
        if transposed {
            Kernels.conv2DBackwardDataIm2col(g, blocks: blocks, dy: input, dyBlockStride: inputStride, w: w, wBlockStride: wStride,
                                             dx: &out, accumulate: accumulate)
        } else {
            Kernels.conv2DForwardIm2col(g, blocks: blocks, x: input, xBlockStride: inputStride, w: w, wBlockStride: wStride,
                                        y: &out, accumulate: accumulate)
        }
        return out
    }

    /// Input and output counts of one block for a direction.
    func counts(_ g: ConvGeometry, transposed: Bool) -> (input: Int, output: Int) {
        transposed ? (g.outputCount, g.inputCount) : (g.inputCount, g.outputCount)
    }

    func testForwardAndDataGradientMatchIm2col() throws {
        var rng = TestRandom(seed: 161)
        // three strided data gradients run on the grouped kernel, two (odd sizes) cannot
        let strided = try cases.filter { $0.7 > 1 }.map { Kernels.groupedFits(try geometry($0), transposed: true) }
        XCTAssertEqual(strided, [true, false, false, true, true])
        for c in cases {
            let g = try geometry(c)
            for transposed in [false, true] where Kernels.groupedFits(g, transposed: transposed) {
                let (ic, oc) = counts(g, transposed: transposed)
                let input = rng.array(2 * ic).map(Float.init), w = rng.array(2 * g.weightCount).map(Float.init)
                for (xs, ws) in [(0, g.weightCount), (ic, 0), (ic, g.weightCount)] {
                    for accumulate in [false, true] {
                        let y0 = rng.array(2 * oc).map(Float.init)
                        let d = grouped(g, transposed: transposed, blocks: 2, input: input, inputStride: xs, w: w, wStride: ws,
                                        output: y0, accumulate: accumulate)
                        let r = im2col(g, transposed: transposed, blocks: 2, input: input, inputStride: xs, w: w, wStride: ws,
                                       output: y0, accumulate: accumulate)
                        XCTAssertLessThan(maxRelativeError(d.map(Double.init), r.map(Double.init)), 1e-5,
                                          "\(c) transposed \(transposed) strides \(xs) \(ws) accumulate \(accumulate)")
                    }
                }
            }
        }
    }

    /// The forward against the naive loop straight from the definition (im2col is not the only reference).
    func testForwardMatchesNaiveLoop() throws {
        var rng = TestRandom(seed: 162)
        for c in cases.prefix(8) {
            let g = try geometry(c)
            let x = rng.array(g.inputCount), w = rng.array(g.weightCount)
            let y = grouped(g, transposed: false, blocks: 1, input: x.map(Float.init), inputStride: 0, w: w.map(Float.init),
                            wStride: 0, output: [Float](repeating: .nan, count: g.outputCount), accumulate: false)
            XCTAssertLessThan(maxRelativeError(y.map(Double.init), naiveConv(g, x, w)), 1e-5, "\(c)")
        }
    }

    /// <conv(x, w), dy> = <x, conv_transpose(dy, w)> with both sides on the grouped kernel.
    func testAdjointIdentity() throws {
        var rng = TestRandom(seed: 163)
        for c in cases {
            let g = try geometry(c)
            guard Kernels.groupedFits(g, transposed: true) else { continue }
            let x = rng.array(g.inputCount).map(Float.init), dy = rng.array(g.outputCount).map(Float.init)
            let w = rng.array(g.weightCount).map(Float.init)
            let y = grouped(g, transposed: false, blocks: 1, input: x, inputStride: 0, w: w, wStride: 0,
                            output: [Float](repeating: 0, count: g.outputCount), accumulate: false)
            let dx = grouped(g, transposed: true, blocks: 1, input: dy, inputStride: 0, w: w, wStride: 0,
                             output: [Float](repeating: 0, count: g.inputCount), accumulate: false)
            let lhs = dot(y.map(Double.init), dy.map(Double.init)), rhs = dot(x.map(Double.init), dx.map(Double.init))
            XCTAssertEqual(lhs, rhs, accuracy: 1e-5 * max(1, abs(lhs)), "\(c)")
        }
    }

    /// 1, 2, 3 and 7 workers give the same bits; every block has the bits of a single-block call.
    func testBitsDoNotDependOnThreadsOrBlocks() throws {
        var rng = TestRandom(seed: 164)
        for c in [cases[0], cases[2], cases[4], cases[9], cases[13]] {
            let g = try geometry(c)
            for transposed in [false, true] {
                let (ic, oc) = counts(g, transposed: transposed)
                let blocks = 3
                let input = rng.array(blocks * ic).map(Float.init), w = rng.array(blocks * g.weightCount).map(Float.init)
                let y0 = rng.array(blocks * oc).map(Float.init)
                for (xs, ws) in [(0, g.weightCount), (ic, 0), (ic, g.weightCount)] {
                    let one = grouped(g, transposed: transposed, blocks: blocks, input: input, inputStride: xs, w: w, wStride: ws,
                                      output: y0, accumulate: true, workers: 1)
                    for workers in [2, 3, 7] {
                        let many = grouped(g, transposed: transposed, blocks: blocks, input: input, inputStride: xs, w: w,
                                           wStride: ws, output: y0, accumulate: true, workers: workers)
                        XCTAssertEqual(many.map(\.bitPattern), one.map(\.bitPattern), "\(c) \(transposed) \(xs) \(ws) \(workers)")
                    }
                    for b in 0..<blocks {
                        let single = grouped(g, transposed: transposed, blocks: 1, input: Array(input[(b * xs)...]), inputStride: 0,
                                             w: Array(w[(b * ws)...]), wStride: 0, output: Array(y0[(b * oc)..<((b + 1) * oc)]),
                                             accumulate: true)
                        XCTAssertEqual(Array(one[(b * oc)..<((b + 1) * oc)]).map(\.bitPattern), single.map(\.bitPattern),
                                       "\(c) \(transposed) \(xs) \(ws) block \(b)")
                    }
                }
            }
        }
    }

    /// AVX2 and AVX-512 machines agree bit for bit.
    func testAVX2AndAVX512GiveTheSameBits() throws {
        try XCTSkipUnless(Kernels.cpuHasAVX512, "this CPU has no AVX-512: only the AVX2 kernels run here")
        var rng = TestRandom(seed: 165)
        for c in cases {
            let g = try geometry(c)
            for transposed in [false, true] where Kernels.groupedFits(g, transposed: transposed) {
                let (ic, oc) = counts(g, transposed: transposed)
                let input = rng.array(2 * ic).map(Float.init), w = rng.array(2 * g.weightCount).map(Float.init)
                let y0 = rng.array(2 * oc).map(Float.init)
                let a = grouped(g, transposed: transposed, blocks: 2, input: input, inputStride: 0, w: w, wStride: g.weightCount,
                                output: y0, accumulate: true, avx512: false)
                let b = grouped(g, transposed: transposed, blocks: 2, input: input, inputStride: 0, w: w, wStride: g.weightCount,
                                output: y0, accumulate: true, avx512: true)
                XCTAssertEqual(a.map(\.bitPattern), b.map(\.bitPattern), "\(c) transposed \(transposed)")
            }
        }
    }

    /// The table sends grouped Float convolutions larger than 1x1 to the grouped kernel (the
    /// strided data gradient where the stride phases fit, on larger planes), HUTCH_GROUPED=0 back to im2col;
    /// conv2DForward and conv2DBackwardData give the kernel's bits, an addend included.
    func testTableAndDispatch() throws {
        let cpu = CPUFeatures(avx2FMA: true, avx512: true)
        let off = KernelOverrides(environment: ["HUTCH_GROUPED": "0"])
        XCTAssertTrue(KernelOverrides().grouped)
        XCTAssertFalse(off.grouped)
        let (on, offTable) = (ConvPathTable(cpu: cpu), ConvPathTable(cpu: cpu, overrides: off))
        let plain = ConvPathTable(cpu: CPUFeatures(avx2FMA: false, avx512: false))
        let stride1 = try geometry(cases[2]), small = try geometry(cases[4]), odd = try geometry(cases[6])
        // a strided data gradient from OH * OW = 196 (`groupedDataMinPositions`) on
        let stride2 = try geometry((1, 4, 4, 4, 28, 28, 3, 2, [1, 1, 1, 1]))
        let pointwise = try ConvGeometry(input: [1, 8, 5, 5], weight: [8, 4, 1, 1], strides: [1, 1], pads: [0, 0, 0, 0],
                                         dilations: [1, 1], group: 2)
        XCTAssertEqual(ConvDirection.allCases.map { on.path(stride1, $0, float: true) }, [.grouped, .grouped, .im2col])
        XCTAssertEqual(ConvDirection.allCases.map { on.path(stride2, $0, float: true) }, [.grouped, .grouped, .im2col])
        XCTAssertEqual(ConvDirection.allCases.map { on.path(odd, $0, float: true) }, [.grouped, .im2col, .im2col])
        XCTAssertEqual(ConvDirection.allCases.map { on.path(small, $0, float: true) }, [.grouped, .im2col, .im2col])
        XCTAssertEqual(ConvDirection.allCases.map { on.path(stride1, $0, float: false) }, [.im2col, .im2col, .im2col])
        XCTAssertEqual(ConvDirection.allCases.map { on.path(pointwise, $0, float: true) }, [.im2col, .im2col, .im2col])
        for table in [offTable, plain] {
            XCTAssertEqual(ConvDirection.allCases.map { table.path(stride1, $0, float: true) }, [.im2col, .im2col, .im2col])
        }
        guard ConvPathTable.host.path(stride1, .forward, float: true) == .grouped else { return }
        var rng = TestRandom(seed: 166)
        for (g, transposed) in [(stride1, false), (stride1, true), (stride2, true)] {
            let (ic, oc) = counts(g, transposed: transposed)
            let input = rng.array(2 * ic).map(Float.init), w = rng.array(2 * g.weightCount).map(Float.init)
            let a = rng.array(2 * oc).map(Float.init)
            var viaTable = [Float](repeating: .nan, count: 2 * oc)
            if transposed {
                Kernels.conv2DBackwardData(g, blocks: 2, dy: input, dyBlockStride: 0, w: w, wBlockStride: g.weightCount,
                                           dx: &viaTable, accumulate: false, addend: a)
            } else {
                Kernels.conv2DForward(g, blocks: 2, x: input, xBlockStride: 0, w: w, wBlockStride: g.weightCount,
                                      y: &viaTable, accumulate: false, addend: a)
            }
            let expected = grouped(g, transposed: transposed, blocks: 2, input: input, inputStride: 0, w: w,
                                   wStride: g.weightCount, output: a, accumulate: true)
            XCTAssertEqual(viaTable.map(\.bitPattern), expected.map(\.bitPattern), "transposed \(transposed)")
        }
    }
}
