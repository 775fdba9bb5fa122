import XCTest
import HutchModel
@testable import HutchTensor
@testable import HutchAutodiff

/// `quadraticFormChunkBytes`, the static per-chunk estimate `--memory` plans Hutchinson with, and
/// the chunks-in-flight bound of `hessianQuadraticForms` (Protocols/README.md, "Memory").
final class ChunkBytesTests: XCTestCase {
    /// ProbeMemoryTests' CNN with every computed value's static shape filled in from a forward
    /// pass, as the ONNX loader fills them in (the hand-built graph has none).
    func annotatedNet(_ input: Tensor<Float>, _ net: Graph = ProbeMemoryTests.net()) throws -> Graph {
        var graph = net
        let e = try Executor<Float>(graph: graph)
        let computed = [graph.input] + graph.nodes.flatMap(\.outputs)
        for (id, t) in zip(computed, try e.values(computed, input: input)) {
            graph.values[id.index].shape = [nil] + t.shape.dropFirst().map { Optional($0) }
        }
        return graph
    }

    func directions(_ e: Executor<Float>, k: Int, seed: UInt64) -> [[ValueID: Tensor<Float>]] {
        var rng = TestRandom(seed: seed)
        return (0..<k).map { _ in
            Dictionary(uniqueKeysWithValues: e.quantizableWeights.map { id in
                (id, Tensor<Float>(shape: e.parameters[id]!.shape, data: (0..<e.parameters[id]!.count).map { _ in rng.next() & 1 == 0 ? -1 : 1 }))
            })
        }
    }

    func input(_ n: Int, channels: Int = 4) -> Tensor<Float> {
        var rng = TestRandom(seed: 5)
        return Tensor<Float>(shape: [n, channels, 32, 32], data: rng.array(n * channels * 32 * 32).map(Float.init))
    }

    /// EfficientNet's block at 32x32: SiLU as Sigmoid and Mul, a 1x1 expansion to 64 channels, a
    /// depthwise 3x3, squeeze-and-excitation (a broadcast Mul), a 1x1 projection and the residual
    /// Add: several large values wait for their adjoints at once in the reverse sweep.
    static func mbConvNet() -> Graph {
        var b = GraphBuilder(seed: 23, input: [nil, 8, 32, 32])
        func silu(_ b: inout GraphBuilder, _ x: ValueID) -> ValueID { b.node(.mul, [x, b.node(.sigmoid, [x])]) }
        var h = silu(&b, b.node(conv([3, 3], pads: [1, 1, 1, 1]), [b.input, b.parameter("stem.w", [16, 8, 3, 3], scale: 0.3), nil]))
        for i in 0..<2 {
            let e = silu(&b, b.node(conv([1, 1]), [h, b.parameter("b\(i).expand", [64, 16, 1, 1], scale: 0.3), nil]))
            let d = silu(&b, b.node(conv([3, 3], pads: [1, 1, 1, 1], group: 64), [e, b.parameter("b\(i).dw", [64, 1, 3, 3], scale: 0.4), nil]))
            var s = b.node(.globalAveragePool, [d])
            s = silu(&b, b.node(conv([1, 1]), [s, b.parameter("b\(i).squeeze", [16, 64, 1, 1], scale: 0.3), b.parameter("b\(i).sb", [16])]))
            s = b.node(.sigmoid, [b.node(conv([1, 1]), [s, b.parameter("b\(i).excite", [64, 16, 1, 1], scale: 0.3), b.parameter("b\(i).eb", [64])])])
            let p = b.node(conv([1, 1]), [b.node(.mul, [d, s]), b.parameter("b\(i).project", [16, 64, 1, 1], scale: 0.2), nil])
            h = b.node(.add, [p, h])
        }
        h = b.node(.flatten(axis: 1), [b.node(.globalAveragePool, [h])])
        h = b.node(.gemm(GemmAttributes(transB: true)), [h, b.parameter("fc.w", [10, 16], scale: 0.5), b.parameter("fc.b", [10])])
        return b.graph(output: h)
    }

    /// Peak live pool bytes of one call at 2 kernel threads, and its forms.
    func measure(_ e: Executor<Float>, _ x: Tensor<Float>, _ d: [[ValueID: Tensor<Float>]], inFlight: Int) throws
        -> (forms: QuadraticFormResult<Float>, peak: Int) {
        try Kernels.withThreads(2) { () throws(ExecutionError) in
            let before = BufferPool.shared.statistics.liveBytes
            BufferPool.shared.resetPeak()
            let forms = try e.hessianQuadraticForms(input: x, labels: (0..<x.shape[0]).map { $0 % 10 }, directions: d, chunksInFlight: inFlight)
            return (forms, BufferPool.shared.statistics.peakLiveBytes - before)
        }
    }

    func testEstimateBoundsTheMeasuredPeakOfAChunkAndIsNotFarAboveIt() throws {
        let k = 4, n = Executor<Float>.quadraticFormChunk
        let e = try Executor<Float>(graph: try annotatedNet(input(n)))
        let estimate = e.quadraticFormChunkBytes(batch: n, k: k)
        let measured = try measure(e, input(n), directions(e, k: k, seed: 7), inFlight: 1).peak
        XCTAssertLessThanOrEqual(measured, estimate, "one chunk's live bytes stay under the estimate")
        // 1.06 times on this net at this commit; 2 leaves room for tapes that free more
        XCTAssertLessThanOrEqual(estimate, 2 * measured, "the estimate is a bound, not a multiple of the use")
        // chunks are 8 examples whatever the batch; a smaller batch is a smaller chunk
        XCTAssertEqual(e.quadraticFormChunkBytes(batch: 64, k: k), estimate)
        XCTAssertEqual(e.quadraticFormChunkBytes(batch: 4, k: k) * 2, estimate)
        XCTAssertLessThan(e.quadraticFormChunkBytes(batch: n, k: 1), e.quadraticFormChunkBytes(batch: n, k: 2))
    }

    func testEstimateBoundsTheMeasuredPeakOfASqueezeExcitationChunk() throws {
        let k = 4, n = Executor<Float>.quadraticFormChunk
        let x = input(n, channels: 8)
        let e = try Executor<Float>(graph: try annotatedNet(x, Self.mbConvNet()))
        let estimate = e.quadraticFormChunkBytes(batch: n, k: k)
        let measured = try measure(e, x, directions(e, k: k, seed: 11), inFlight: 1).peak
        print("mbconv chunk: measured \(measured) estimate \(estimate)")
        XCTAssertLessThanOrEqual(measured, estimate, "one chunk's live bytes stay under the estimate")
        XCTAssertLessThanOrEqual(estimate, 2 * measured, "the estimate is a bound, not a multiple of the use")
    }

    /// The activation forms' chunk bound against the measured peak of one chunk, on both nets.
    func testActivationEstimateBoundsTheMeasuredPeakOfAChunk() throws {
        let k = 4, n = Executor<Float>.quadraticFormChunk
        for (net, channels) in [(ProbeMemoryTests.net(), 4), (Self.mbConvNet(), 8)] {
            let x = input(n, channels: channels)
            let e = try Executor<Float>(graph: try annotatedNet(x, net))
            let values = e.graph.quantizableLayers.map(\.input)
            let estimate = e.activationFormChunkBytes(batch: n, k: k, values: values)
            let measured = try Kernels.withThreads(2) { () throws(ExecutionError) in
                let before = BufferPool.shared.statistics.liveBytes
                BufferPool.shared.resetPeak()
                _ = try e.activationQuadraticForms(input: x, labels: (0..<n).map { $0 % 10 }, values: values, seeds: [1, 2, 3, 4])
                return BufferPool.shared.statistics.peakLiveBytes - before
            }
            print("activation chunk: measured \(measured) estimate \(estimate)")
            XCTAssertLessThanOrEqual(measured, estimate, "one chunk's live bytes stay under the estimate")
            XCTAssertLessThanOrEqual(estimate, 2 * measured, "the estimate is a bound, not a multiple of the use")
        }
    }

    /// Two chunks, one or two at once: the same bits, and with one at once the peak is one
    /// chunk's (two at once held 2.0 times as much here, but whether they overlap is up to the
    /// scheduler, so only the bound is asserted).
    func testChunksInFlightChangeNoBitAndBoundThePeak() throws {
        let k = 2, chunk = Executor<Float>.quadraticFormChunk
        let e = try Executor<Float>(graph: try annotatedNet(input(2 * chunk)))
        let d = directions(e, k: k, seed: 9)
        let single = try measure(e, input(chunk), d, inFlight: 1).peak
        let one = try measure(e, input(2 * chunk), d, inFlight: 1)
        let two = try measure(e, input(2 * chunk), d, inFlight: 2)
        XCTAssertEqual(one.forms.forms, two.forms.forms, "forms bit for bit")
        XCTAssertEqual(one.forms.loss, two.forms.loss)
        XCTAssertLessThanOrEqual(Double(one.peak), 1.05 * Double(single), "one chunk in flight holds one chunk's buffers")
    }

    /// Two MLP blocks on token rows, whose weights outweigh their activations many times: the
    /// shape of a transformer at a small batch.
    static func tokenMLPNet() -> Graph {
        var b = GraphBuilder(seed: 29, input: [nil, 4, 64])
        var h = b.input
        for i in 0..<2 {
            let up = b.node(.gelu(tanhApproximation: false), [b.node(.matMul, [h, b.parameter("b\(i).up", [64, 256], scale: 0.1)])])
            h = b.node(.add, [h, b.node(.matMul, [up, b.parameter("b\(i).down", [256, 64], scale: 0.05)])])
        }
        h = b.node(.reduceMean(axes: [1], keepDims: false), [h])
        h = b.node(.gemm(GemmAttributes(transB: true)), [h, b.parameter("fc.w", [10, 64], scale: 0.3), b.parameter("fc.b", [10])])
        return b.graph(output: h)
    }

    /// Gemm and MatMul layers form their share from inner products (Executor+ProductForms): a call
    /// holds the chunk's bound plus the stacked directions and parameters, and no weight-shaped
    /// adjoints ((1 + k) × the weights per chunk before, which this bound leaves no room for).
    func testWeightProductsHoldNoWeightShapedAdjoints() throws {
        let k = 4, n = 2
        var rng = TestRandom(seed: 6)
        let x = Tensor<Float>(shape: [n, 4, 64], data: rng.array(n * 4 * 64).map(Float.init))
        let e = try Executor<Float>(graph: try annotatedNet(x, Self.tokenMLPNet()))
        let weightBytes = e.parameters.values.reduce(0) { $0 + $1.count } * MemoryLayout<Float>.stride
        let measured = try measure(e, x, directions(e, k: k, seed: 8), inFlight: 1).peak
        let bound = e.quadraticFormChunkBytes(batch: n, k: k) + (k + 1) * weightBytes
        XCTAssertLessThanOrEqual(measured, bound, "weights \(weightBytes) B")
    }

    /// The estimate reads the loader's static shapes: on exported models every computed value's
    /// shape times the examples is what a forward pass makes (heads folded into the batch too).
    func testLoadedModelsStaticShapesMatchAForwardPass() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Tests/Fixtures")
        for name in ["resnet_small", "tiny_vit", "depthwise"] {
            let graph = try ONNXLoader.load(contentsOf: root.appendingPathComponent("\(name).onnx"))
            let arrays = try NumPyArchive.readNPZ(contentsOf: root.appendingPathComponent("\(name)_ref.npz"))
            let x = try XCTUnwrap(arrays["x"])
            let e = try Executor<Float>(graph: graph)
            let computed = [graph.input] + graph.nodes.flatMap(\.outputs)
            let tensors = try e.values(computed, input: Tensor(shape: x.shape, data: x.doubles().map(Float.init)))
            for (id, t) in zip(computed, tensors) where e.parameters[id] == nil {
                XCTAssertEqual(graph.values[id.index].elementsPerExample * x.shape[0], t.count, "\(name): '\(graph.values[id.index].name)'")
            }
        }
    }
}
