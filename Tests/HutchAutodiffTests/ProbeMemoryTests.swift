import XCTest
import HutchModel
@testable import HutchTensor
@testable import HutchAutodiff

/// The live-bytes bound of a Hutchinson chunk (Protocols/README.md, "Memory"), measured by the
/// buffer pool's counters, and the forms' bits with and without recomputed conv(x, V) terms.
final class ProbeMemoryTests: XCTestCase {
    /// Six 16-channel 32x32 convolutions (3x3 and 1x1, so some terms are kept and some recomputed)
    /// with ReLUs and a residual Add: every activation of a chunk of 8 is at least the pool's 64 KiB.
    static func net() -> Graph {
        var b = GraphBuilder(seed: 21, input: [nil, 4, 32, 32])
        var h = b.node(conv([3, 3], pads: [1, 1, 1, 1]), [b.input, b.parameter("c0.w", [16, 4, 3, 3], scale: 0.3), nil])
        h = b.node(.relu, [h])
        let skip = h
        for (i, k) in [3, 1, 3, 1, 3].enumerated() {
            let pad = k / 2
            h = b.node(conv([k, k], pads: [pad, pad, pad, pad]), [h, b.parameter("c\(i + 1).w", [16, 16, k, k], scale: 0.2), nil])
            h = b.node(.relu, [h])
        }
        h = b.node(.add, [h, skip])
        h = b.node(.globalAveragePool, [h])
        h = b.node(.flatten(axis: 1), [h])
        h = b.node(.gemm(GemmAttributes(transB: true)), [h, b.parameter("fc.w", [10, 16], scale: 0.5), b.parameter("fc.b", [10])])
        return b.graph(output: h)
    }

    struct Run { var forms: QuadraticFormResult<Float>; var peak: Int }

    static func run(_ e: Executor<Float>, _ input: Tensor<Float>, _ labels: [Int], _ directions: [[ValueID: Tensor<Float>]]) throws -> Run {
        try Kernels.withThreads(1) { () throws(ExecutionError) in
            let before = BufferPool.shared.statistics.liveBytes
            BufferPool.shared.resetPeak()
            let forms = try e.hessianQuadraticForms(input: input, labels: labels, directions: directions)
            return Run(forms: forms, peak: BufferPool.shared.statistics.peakLiveBytes - before)
        }
    }

    func testChunkPeakStaysUnderTheDocumentedBoundAndRecomputingTermsKeepsEveryBit() throws {
        let graph = Self.net()
        var e = try Executor<Float>(graph: graph)
        let n = Executor<Float>.quadraticFormChunk, k = 4
        var rng = TestRandom(seed: 5)
        let input = Tensor<Float>(shape: [n, 4, 32, 32], data: rng.array(n * 4 * 32 * 32).map(Float.init))
        let labels = (0..<n).map { $0 % 10 }
        let directions: [[ValueID: Tensor<Float>]] = (0..<k).map { _ in
            Dictionary(uniqueKeysWithValues: e.quantizableWeights.map { id in
                (id, Tensor<Float>(shape: e.parameters[id]!.shape, data: (0..<e.parameters[id]!.count).map { _ in rng.next() & 1 == 0 ? -1 : 1 }))
            })
        }
        // every value's bytes for this chunk (1 block), from a forward pass
        let activations = graph.values.indices.map(ValueID.init).filter { e.parameters[$0] == nil }
        let tensors = try e.values(activations, input: input)
        var bytes = [ValueID: Int]()
        for (id, t) in zip(activations, tensors) { bytes[id] = t.count * MemoryLayout<Float>.stride }
        let tape = bytes.values.reduce(0, +), largest = bytes.values.max()!
        // kept through the tangent sweep: the inputs of nodes with curvature (here the convolutions) and
        // the output, and conv(x, V) of the layers that keep it
        var keptTangents = Set<ValueID>([graph.output])
        var terms = 0
        for node in graph.nodes where node.op.rule.hasCurvature {
            for v in node.inputs.compactMap({ $0 }) where bytes[v] != nil { keptTangents.insert(v) }
            if case .conv = node.op, let w = e.parameters[node.inputs[1]!], w.shape[1] * w.shape[2] * w.shape[3] > QuadraticForms<Float>.defaultRecomputeUpTo {
                terms += bytes[node.outputs[0]]!
            }
        }
        let kept = keptTangents.reduce(0) { $0 + bytes[$1]! }
        let bound = tape + k * (kept + terms) + (4 * k + 2) * largest
        // the bound has teeth: keeping every tangent (or every term) would not fit under it
        let everyTangent = tape + k * (tape + terms)
        XCTAssertGreaterThan(everyTangent, bound + largest)

        let recomputing = try Self.run(e, input, labels, directions)
        XCTAssertLessThanOrEqual(recomputing.peak, bound, "peak live bytes of one chunk")
        XCTAssertGreaterThan(recomputing.peak, tape, "the pool counted the chunk's buffers")

        e.quadraticTermRecomputeUpTo = Int.min   // every term kept, as before terms were recomputed
        let keeping = try Self.run(e, input, labels, directions)
        XCTAssertEqual(keeping.forms.forms, recomputing.forms.forms, "forms bit for bit")
        XCTAssertEqual(keeping.forms.loss, recomputing.forms.loss)
        // c0's and the 1x1 layers' terms (3 of the 16-channel conv outputs, k blocks each) are not held
        XCTAssertLessThanOrEqual(recomputing.peak + k * 2 * largest, keeping.peak)

        e.quadraticTermRecomputeUpTo = Int.max   // every term recomputed
        let all = try Self.run(e, input, labels, directions)
        XCTAssertEqual(all.forms.forms, recomputing.forms.forms, "forms bit for bit")
    }
}
