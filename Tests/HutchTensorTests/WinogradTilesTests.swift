import HutchTestSupport
import XCTest
@testable import HutchTensor

/// Per-example Winograd F(2x2, 3x3) and F(4x4, 3x3) on AVX2 (Kernels+WinogradTiles), each test on
/// both tiles: against the naive loop in Double on every output width from 1 to 40 (tile rows of
/// 8 or more run as row vectors, the last overlapping; narrower ones paired), with odd sizes,
/// asymmetric pads and channel counts that are not a multiple of 4; its data gradient as an
/// adjoint; its stores (overwrite, accumulate, addend); and its bits: independent of threads, of
/// the examples and of the blocks sharing a call.
final class WinogradTilesTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(Kernels.cpuHasAVX2FMA, "this CPU has no AVX2 + FMA: the per-example Winograd is never used")
    }

    let tiles = [2, 4]

    func geometry(_ input: [Int], _ weight: [Int], _ pads: [Int]) throws -> ConvGeometry {
        try ConvGeometry(input: input, weight: weight, strides: [1, 1], pads: pads, dilations: [1, 1], group: 1)
    }

    func forward(_ g: ConvGeometry, tile: Int, _ x: [Float], _ w: [Float], y: [Float]? = nil, accumulate: Bool = false,
                 addend: [Float]? = nil) -> [Float] {
        var out = y ?? [Float](repeating: .nan, count: g.outputCount)
        if let addend {
            addend.withUnsafeBufferPointer { a in
                Kernels.winogradTilesForward(g, tile: tile, blocks: 1, x: x, xBlockStride: 0, w: w, wBlockStride: 0, y: &out,
                                             accumulate: false, addend: a.baseAddress!)
            }
        } else {
            Kernels.winogradTilesForward(g, tile: tile, blocks: 1, x: x, xBlockStride: 0, w: w, wBlockStride: 0, y: &out, accumulate: accumulate)
        }
        return out
    }

    /// Every width 1 ... 40 and heights 1 ... 9 against the Double loop, through all three stores:
    /// max |error| / max |y| within 1e-5 (float32 measures a few 1e-7 for F(2x2), a few 1e-6 for
    /// F(4x4)). Also checks that nothing outside y's elements is read as NaN: y starts as NaN for
    /// the overwrite.
    func testEveryWidthMatchesTheNaiveLoop() throws {
        var rng = TestRandom(seed: 51)
        let pads = [[1, 1, 1, 1], [0, 0, 0, 0], [2, 1, 0, 2], [0, 2, 1, 0]]
        for tile in tiles {
            var worst = 0.0
            for ow in 1...40 {
                let p = pads[ow % pads.count], oh = [1, 2, 3, 5, 8, 9][ow % 6]
                let (cin, cout) = ([1, 3, 5, 8][ow % 4], [1, 4, 5, 7, 9][ow % 5])
                let g = try geometry([2, cin, oh + 2 - p[0] - p[2], ow + 2 - p[1] - p[3]], [cout, cin, 3, 3], p)
                XCTAssertEqual([g.outHeight, g.outWidth], [oh, ow])
                let x = rng.array(g.inputCount), w = rng.array(g.weightCount), base = rng.array(g.outputCount)
                let exact = naiveConv(g, x, w)
                let (xf, wf, bf) = (x.map(Float.init), w.map(Float.init), base.map(Float.init))
                let plus = zip(exact, bf).map { $0 + Double($1) }
                let overwrite = forward(g, tile: tile, xf, wf).map(Double.init)
                let accumulated = forward(g, tile: tile, xf, wf, y: bf, accumulate: true).map(Double.init)
                let added = forward(g, tile: tile, xf, wf, addend: bf).map(Double.init)
                let errors = [maxRelativeError(overwrite, exact), maxRelativeError(accumulated, plus), maxRelativeError(added, plus)]
                worst = max(worst, errors.max()!)
                XCTAssertLessThan(errors.max()!, 1e-5, "tile \(tile) \(oh)x\(ow) pads \(p) \(cin)->\(cout): \(errors)")
            }
            print(String(format: "per-example F(%dx%d,3x3): worst max error / max |y| %.2e", tile, tile, worst))
        }
    }

    /// Pads wider than the kernel's reach (3 and 4: whole padded rows and columns of zeros, odd and
    /// even left pads moving the input to the other column phase) against the Double loop.
    func testWidePadsMatchTheNaiveLoop() throws {
        var rng = TestRandom(seed: 59)
        for tile in tiles {
            for pads in [[3, 4, 4, 3], [4, 3, 0, 1], [1, 0, 3, 4], [2, 5, 1, 3]] {
                for (h, w) in [(5, 18), (9, 7), (16, 33)] {
                    let g = try geometry([1, 6, h, w], [5, 6, 3, 3], pads)
                    let x = rng.array(g.inputCount), wt = rng.array(g.weightCount)
                    let y = forward(g, tile: tile, x.map(Float.init), wt.map(Float.init)).map(Double.init)
                    XCTAssertLessThan(maxRelativeError(y, naiveConv(g, x, wt)), 1e-5, "tile \(tile) \(h)x\(w) pads \(pads)")
                }
            }
        }
    }

    /// ResNet-20's shapes (16, 32 and 64 channels on 32x32, 16x16 and 8x8) against im2col in Float.
    func testResNet20ShapesMatchIm2col() throws {
        var rng = TestRandom(seed: 52)
        for (c, hw) in [(16, 32), (32, 16), (64, 8)] {
            let g = try geometry([2, c, hw, hw], [c, c, 3, 3], [1, 1, 1, 1])
            let x = rng.array(g.inputCount).map(Float.init), w = rng.array(g.weightCount).map(Float.init)
            var yi = [Float](repeating: 0, count: g.outputCount)
            Kernels.conv2DForwardIm2col(g, blocks: 1, x: x, xBlockStride: 0, w: w, wBlockStride: 0, y: &yi, accumulate: false)
            for tile in tiles {
                let error = maxRelativeError(forward(g, tile: tile, x, w).map(Double.init), yi.map(Double.init))
                XCTAssertLessThan(error, 1e-5, "tile \(tile) \(c) channels \(hw)x\(hw)")
            }
        }
    }

    /// Where the table sends a stride-1 data gradient here (the forward convolution of the
    /// transposed geometry), dx is the naive loop's adjoint.
    func testDataGradientIsTheAdjoint() throws {
        var rng = TestRandom(seed: 53)
        for (shape, path) in [([1, 16, 9, 11], ConvPath.winograd2), ([1, 16, 17, 15], .winograd4PerExample)] {
            let g = try geometry(shape, [16, 16, 3, 3], [1, 1, 1, 1])
            XCTAssertEqual(ConvPathTable.host.path(g, .backwardData, float: true), path)
            assertDataGradientIsTheAdjoint(g, w: rng.array(g.weightCount), dy: rng.array(g.outputCount), step: 7, relative: 1e-5)
        }
    }

    /// The data gradient transforms the original weights flipped as it reads them: the bits of the
    /// forward on explicitly flipped weights, per block, with an addend too.
    func testFlippedWeightsGiveTheBitsOfAFlippedCopy() throws {
        var rng = TestRandom(seed: 58)
        for tile in tiles {
            let g = try geometry([2, 24, 10, 12], [16, 24, 3, 3], [1, 1, 1, 1]), blocks = 3
            let t = try XCTUnwrap(g.strideOneTranspose)
            let w = rng.array(blocks * g.weightCount).map(Float.init), dy = rng.array(blocks * g.outputCount).map(Float.init)
            let addend = rng.array(blocks * g.inputCount).map(Float.init)
            var flipped = [Float](repeating: 0, count: blocks * g.weightCount)
            Kernels.flippedTransposedWeights(g, blocks: blocks, w: w, into: &flipped)
            var (fromW, fromCopy) = ([Float](repeating: 0, count: blocks * g.inputCount), addend)
            addend.withUnsafeBufferPointer { a in
                Kernels.winogradTilesForward(t, tile: tile, blocks: blocks, x: dy, xBlockStride: g.outputCount, w: w,
                                             wBlockStride: g.weightCount, y: &fromW, accumulate: false, addend: a.baseAddress!,
                                             weights: .flippedTransposed)
            }
            Kernels.winogradTilesForward(t, tile: tile, blocks: blocks, x: dy, xBlockStride: g.outputCount, w: flipped,
                                         wBlockStride: g.weightCount, y: &fromCopy, accumulate: true)
            XCTAssertEqual(fromW.map(\.bitPattern), fromCopy.map(\.bitPattern), "tile \(tile)")
        }
    }

    /// Bits do not depend on the thread count nor on which examples share a call.
    func testBitsIndependentOfThreadsAndBatch() throws {
        var rng = TestRandom(seed: 54)
        for tile in tiles {
            for (input, weight) in [([3, 16, 32, 32], [16, 16, 3, 3]), ([3, 8, 7, 13], [6, 8, 3, 3])] {
                let g = try geometry(input, weight, [1, 1, 1, 1])
                let x = rng.array(g.inputCount).map(Float.init), w = rng.array(g.weightCount).map(Float.init)
                let one = Kernels.withThreads(1) { forward(g, tile: tile, x, w) }
                XCTAssertEqual(one.map(\.bitPattern), Kernels.withThreads(3) { forward(g, tile: tile, x, w) }.map(\.bitPattern), "\(input)")
                let single = try geometry([1] + input.dropFirst(), weight, [1, 1, 1, 1])
                for n in 0..<g.batch {
                    let yn = forward(single, tile: tile, Array(x[(n * single.inputCount)..<((n + 1) * single.inputCount)]), w)
                    XCTAssertEqual(yn.map(\.bitPattern), one[(n * single.outputCount)..<((n + 1) * single.outputCount)].map(\.bitPattern))
                }
            }
        }
    }

    /// Stacked blocks (own x and w; a shared x) give each block the bits of a single-block call,
    /// accumulating and with an addend.
    func testBlocksAreBitIdenticalToSingleCalls() throws {
        var rng = TestRandom(seed: 55)
        let g = try geometry([2, 16, 16, 16], [13, 16, 3, 3], [1, 1, 1, 1]), blocks = 3
        let x = rng.array(blocks * g.inputCount).map(Float.init), w = rng.array(blocks * g.weightCount).map(Float.init)
        let y0 = rng.array(blocks * g.outputCount).map(Float.init)
        for tile in tiles {
            for xStride in [g.inputCount, 0] {
                for addend in [false, true] {
                    var y = addend ? [Float](repeating: 0, count: y0.count) : y0
                    y0.withUnsafeBufferPointer { a in
                        Kernels.winogradTilesForward(g, tile: tile, blocks: blocks, x: x, xBlockStride: xStride, w: w,
                                                     wBlockStride: g.weightCount, y: &y, accumulate: !addend,
                                                     addend: addend ? a.baseAddress! : nil)
                    }
                    for b in 0..<blocks {
                        let yb = Array(y0[(b * g.outputCount)..<((b + 1) * g.outputCount)])
                        let single = forward(g, tile: tile, Array(x[(b * xStride)..<(b * xStride + g.inputCount)]),
                                             Array(w[(b * g.weightCount)..<((b + 1) * g.weightCount)]), y: yb, accumulate: true)
                        XCTAssertEqual(single.map(\.bitPattern), y[(b * g.outputCount)..<((b + 1) * g.outputCount)].map(\.bitPattern),
                                       "tile \(tile) x stride \(xStride) addend \(addend) block \(b)")
                    }
                }
            }
        }
    }
}

/// The products' widths: AVX2 (8 lanes), the AVX-512 code's 16 lanes compiled for AVX2 (run on
/// every machine) and the AVX-512 build itself give the same bits.
final class WinogradTilesWidthTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(Kernels.cpuHasAVX2FMA, "this CPU has no AVX2 + FMA: the per-example Winograd is never used")
    }

    /// Both tiles' bits of one product width, concatenated.
    func forward(_ g: ConvGeometry, _ x: [Float], _ w: [Float], _ products: Kernels.WinogradProducts) -> [UInt32] {
        [2, 4].flatMap { tile in
            var y = [Float](repeating: 0, count: g.outputCount)
            Kernels.winogradTilesForward(g, tile: tile, blocks: 1, x: x, xBlockStride: 0, w: w, wBlockStride: 0, y: &y, accumulate: false,
                                         products: products)
            return y.map(\.bitPattern)
        }
    }

    /// Odd and even vector counts per slab (1 ... 13 vectors: the last slab's vector copied to an
    /// even count), row vectors and paired rows, channel counts not a multiple of 4.
    let shapes: [([Int], [Int])] = [([2, 5, 3, 3], [6, 5, 3, 3]), ([1, 16, 8, 8], [16, 16, 3, 3]), ([1, 7, 14, 14], [9, 7, 3, 3]),
                                    ([1, 16, 32, 32], [16, 16, 3, 3]), ([1, 3, 26, 30], [5, 3, 3, 3]), ([2, 9, 11, 20], [4, 9, 3, 3])]

    func testSixteenLanesGiveTheEightLaneBits() throws {
        var rng = TestRandom(seed: 56)
        for (input, weight) in shapes {
            let g = try ConvGeometry(input: input, weight: weight, strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1)
            let x = rng.array(g.inputCount).map(Float.init), w = rng.array(g.weightCount).map(Float.init)
            XCTAssertEqual(forward(g, x, w, .avx2), forward(g, x, w, .sixteenLanesOnAVX2), "\(input) \(weight)")
        }
    }

    func testAVX512GivesTheAVX2Bits() throws {
        try XCTSkipUnless(Kernels.cpuHasAVX512, "this CPU has no AVX-512")
        var rng = TestRandom(seed: 57)
        for (input, weight) in shapes {
            let g = try ConvGeometry(input: input, weight: weight, strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1)
            let x = rng.array(g.inputCount).map(Float.init), w = rng.array(g.weightCount).map(Float.init)
            XCTAssertEqual(forward(g, x, w, .avx2), forward(g, x, w, .avx512), "\(input) \(weight)")
        }
    }
}
