import HutchTestSupport
import XCTest
@testable import HutchTensor

/// The depthwise vector kernels (Kernels+DepthwiseVector) against the scalar loops and the naive
/// loop, and their bit guarantees: AVX2 and AVX-512 widths, threads, blocks. Skipped on CPUs
/// without AVX2 + FMA (the loops run there).
final class DepthwiseVectorTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(Kernels.cpuHasAVX2FMA, "this CPU has no AVX2 + FMA: the depthwise vector kernels are never used")
    }

    /// (input [N, C, H, W], multiplier, kernel, stride, pads [top, left, bottom, right]).
    typealias Case = (input: [Int], m: Int, k: Int, s: Int, pads: [Int])

    /// Widths 1 ... 33 at 3x3 stride 1 and 2 (masked lanes, overlapping tails, odd sizes for the
    /// stride phases), 5x5, pads 0 ... 3 and asymmetric, multiplier 2, MobileNet-like planes.
    static let cases: [Case] = {
        var c = (1...33).map { w in Case([1, 2, 1 + w % 4, w], 1, 3, 1 + w % 2, [1, 1, 1, 1]) }
        c += [
            ([2, 3, 9, 17], 1, 5, 1, [2, 2, 2, 2]), ([1, 2, 11, 23], 1, 5, 2, [2, 2, 2, 2]), ([2, 2, 7, 7], 1, 5, 2, [1, 2, 3, 0]),
            ([1, 3, 6, 10], 2, 3, 1, [1, 1, 1, 1]), ([2, 2, 9, 12], 2, 3, 2, [0, 1, 1, 0]), ([1, 2, 8, 9], 3, 5, 2, [2, 2, 2, 2]),
            ([1, 2, 5, 6], 1, 3, 1, [3, 0, 2, 3]), ([1, 2, 4, 4], 1, 3, 1, [0, 0, 0, 0]), ([1, 3, 14, 14], 1, 3, 2, [1, 1, 1, 1]),
            ([2, 4, 28, 28], 1, 3, 1, [1, 1, 1, 1]), ([1, 3, 15, 15], 1, 5, 2, [2, 2, 2, 2]), ([1, 2, 12, 40], 1, 3, 3, [1, 1, 1, 1]),
        ]
        return c
    }()

    func geometry(_ c: Case) throws -> ConvGeometry {
        try ConvGeometry(input: c.input, weight: [c.input[1] * c.m, 1, c.k, c.k], strides: [c.s, c.s], pads: c.pads,
                         dilations: [1, 1], group: c.input[1])
    }

    /// One call on the vector kernels (or the loops), with 2 blocks sharing the input or the weights.
    func run(_ g: ConvGeometry, transposed: Bool, vector: Bool, input: [Float], shareInput: Bool, w: [Float], output: [Float],
             accumulate: Bool, workers: Int = Kernels.threads, width: Int? = nil) -> [Float] {
        let (inCount, outCount) = transposed ? (g.outputCount, g.inputCount) : (g.inputCount, g.outputCount)
        var y = output
        if vector {
            Kernels.depthwiseVector(g, transposed: transposed, blocks: 2, input: input, inputBlockStride: shareInput ? 0 : inCount,
                                    w: w, wBlockStride: shareInput ? g.weightCount : 0, output: &y, accumulate: accumulate,
                                    workers: workers, avx512: false, width: width)
        } else {
            Kernels.depthwiseLoops(g, transposed: transposed, blocks: 2, input: input, inputBlockStride: shareInput ? 0 : inCount,
                                   w: w, wBlockStride: shareInput ? g.weightCount : 0, output: &y, accumulate: accumulate)
        }
        precondition(y.count == 2 * outCount)
        return y
    }

    /// Forward and data gradient, stored and accumulated, blocks sharing x or w: the vector
    /// kernel (8 columns) within 1e-6 of the loops, the forward within 1e-5 of the naive loop.
    func testVectorKernelsMatchTheLoops() throws {
        var rng = TestRandom(seed: 161)
        for c in Self.cases {
            let g = try geometry(c)
            XCTAssertTrue(Kernels.depthwiseVectorFits(g))
            for transposed in [false, true] {
                let (inCount, outCount) = transposed ? (g.outputCount, g.inputCount) : (g.inputCount, g.outputCount)
                let x = rng.array(2 * inCount), w = rng.array(2 * g.weightCount), y0 = rng.array(2 * outCount)
                let (xf, wf, y0f) = (x.map(Float.init), w.map(Float.init), y0.map(Float.init))
                for shareInput in [true, false] {
                    for accumulate in [false, true] {
                        let name = "\(c) transposed \(transposed) shared input \(shareInput) accumulate \(accumulate)"
                        // NaN where the result overwrites, so an output left unwritten shows
                        let start = accumulate ? y0f : [Float](repeating: .nan, count: y0f.count)
                        let vec = run(g, transposed: transposed, vector: true, input: xf, shareInput: shareInput, w: wf,
                                      output: start, accumulate: accumulate)
                        let loops = run(g, transposed: transposed, vector: false, input: xf, shareInput: shareInput, w: wf,
                                        output: accumulate ? y0f : [Float](repeating: 0, count: y0f.count), accumulate: accumulate)
                        XCTAssertLessThan(maxRelativeError(vec.map(Double.init), loops.map(Double.init)), 1e-6, name)
                        guard !transposed else { continue }
                        for b in 0..<2 {
                            let xb = shareInput ? Array(x[0..<inCount]) : Array(x[(b * inCount)..<((b + 1) * inCount)])
                            let wb = shareInput ? Array(w[(b * g.weightCount)..<((b + 1) * g.weightCount)]) : Array(w[0..<g.weightCount])
                            let got = (0..<outCount).map {
                                Double(vec[b * outCount + $0]) - (accumulate ? Double(y0f[b * outCount + $0]) : 0)
                            }
                            XCTAssertLessThan(maxRelativeError(got, naiveConv(g, xb, wb)), 1e-5, "\(name) block \(b)")
                        }
                    }
                }
            }
        }
    }

    /// 16-column (AVX-512) and 8-column (AVX2) vectors, 1 or 2 threads, a block alone or with
    /// another: the same bits.
    func testBitsDoNotDependOnWidthThreadsOrBlocks() throws {
        var rng = TestRandom(seed: 162)
        let widths = Kernels.cpuHasAVX512 ? [8, 16] : [8]
        for c in Self.cases {
            let g = try geometry(c)
            for transposed in [false, true] {
                let (inCount, outCount) = transposed ? (g.outputCount, g.inputCount) : (g.inputCount, g.outputCount)
                let xf = rng.array(2 * inCount).map(Float.init), wf = rng.array(2 * g.weightCount).map(Float.init)
                let y0f = rng.array(2 * outCount).map(Float.init)
                for accumulate in [false, true] {
                    let start = accumulate ? y0f : [Float](repeating: .nan, count: y0f.count)
                    let reference = run(g, transposed: transposed, vector: true, input: xf, shareInput: false, w: wf,
                                        output: start, accumulate: accumulate, workers: 1, width: 8)
                    let name = "\(c) transposed \(transposed) accumulate \(accumulate)"
                    for width in widths {
                        for workers in [1, 2] {
                            let y = run(g, transposed: transposed, vector: true, input: xf, shareInput: false, w: wf, output: start,
                                        accumulate: accumulate, workers: workers, width: width)
                            XCTAssertEqual(y.map(\.bitPattern), reference.map(\.bitPattern), "\(name) width \(width) workers \(workers)")
                        }
                    }
                    // block 1 alone: its input and the shared weights, a single-block call
                    var single = Array(start[outCount...])
                    Kernels.depthwiseVector(g, transposed: transposed, blocks: 1, input: Array(xf[inCount...]), inputBlockStride: 0,
                                            w: wf, wBlockStride: 0, output: &single, accumulate: accumulate, avx512: false)
                    XCTAssertEqual(single.map(\.bitPattern), reference[outCount...].map(\.bitPattern), "\(name) block 1 alone")
                }
            }
        }
    }

    /// <conv(x, w), dy> = <x, conv_transpose(dy, w)> with both sides from the vector kernels.
    func testDataGradientIsTheAdjointOfTheForward() throws {
        var rng = TestRandom(seed: 163)
        for c in Self.cases {
            let g = try geometry(c)
            let x = rng.array(g.inputCount).map(Float.init), w = rng.array(g.weightCount).map(Float.init)
            let dy = rng.array(g.outputCount).map(Float.init)
            var y = [Float](repeating: .nan, count: g.outputCount), dx = [Float](repeating: .nan, count: g.inputCount)
            Kernels.depthwiseVector(g, transposed: false, blocks: 1, input: x, inputBlockStride: 0, w: w, wBlockStride: 0,
                                    output: &y, accumulate: false)
            Kernels.depthwiseVector(g, transposed: true, blocks: 1, input: dy, inputBlockStride: 0, w: w, wBlockStride: 0,
                                    output: &dx, accumulate: false)
            let lhs = dot(y.map(Double.init), dy.map(Double.init)), rhs = dot(x.map(Double.init), dx.map(Double.init))
            let scale = dot(y.map { abs(Double($0)) }, dy.map { abs(Double($0)) })
            XCTAssertEqual(lhs, rhs, accuracy: 1e-6 * max(1, scale), "\(c)")
        }
    }

    /// The rule: Float depthwise 3x3 / 5x5 without dilation, AVX2 + FMA, HUTCH_DEPTHWISE_VECTOR
    /// not 0; other kernels and dilations keep the loops (the path stays `.depthwise`).
    func testTableRuleAndSwitch() throws {
        let table = ConvPathTable(cpu: CPUFeatures(avx2FMA: true, avx512: true))
        let plain = ConvPathTable(cpu: CPUFeatures(avx2FMA: false, avx512: false))
        var off = KernelOverrides()
        off.depthwiseVector = false
        XCTAssertEqual(KernelOverrides(environment: ["HUTCH_DEPTHWISE_VECTOR": "0"]), off)
        XCTAssertTrue(KernelOverrides(environment: [:]).depthwiseVector)
        func g(_ k: Int, dilation: Int = 1, group: Int = 4) throws -> ConvGeometry {
            try ConvGeometry(input: [1, 4, 9, 9], weight: [4, 4 / group, k, k], strides: [1, 1], pads: [1, 1, 1, 1],
                             dilations: [dilation, dilation], group: group)
        }
        XCTAssertTrue(table.depthwiseVector(try g(3)))
        XCTAssertTrue(table.depthwiseVector(try g(5)))
        XCTAssertFalse(ConvPathTable(cpu: table.cpu, overrides: off).depthwiseVector(try g(3)))
        XCTAssertFalse(plain.depthwiseVector(try g(3)))
        XCTAssertFalse(table.depthwiseVector(try g(2)))
        XCTAssertFalse(table.depthwiseVector(try g(7)))
        XCTAssertFalse(table.depthwiseVector(try g(3, dilation: 2)))
        XCTAssertFalse(table.depthwiseVector(try g(3, group: 2)))
        XCTAssertEqual(table.path(try g(3), .forward, float: true), .depthwise)
    }
}
