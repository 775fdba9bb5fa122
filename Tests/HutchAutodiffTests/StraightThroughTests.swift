import HutchAutodiff
import HutchModel
import HutchTensor
import XCTest

/// The straight-through gradient of an activation fake quantizer (quantization-aware training):
/// the adjoint passes where the code is inside the grid and stops where it saturates.
final class StraightThroughTests: XCTestCase {
    let scale: Float = 0.25, minCode: Int32 = -4, maxCode: Int32 = 3

    /// x -> Gemm(W1) -> middle -> Gemm(W2), with `middle` building the value between the Gemms.
    func network(_ middle: (inout GraphBuilder, ValueID) -> ValueID) -> (Graph, w1: ValueID, w2: ValueID) {
        var b = GraphBuilder(seed: 21, input: [nil, 3])
        let w1 = b.parameter("w1", [4, 3], scale: 1.5)
        var h = b.node(.gemm(GemmAttributes(transB: true)), [b.input, w1, nil])
        h = middle(&b, h)
        let w2 = b.parameter("w2", [2, 4], scale: 1.0)
        let out = b.node(.gemm(GemmAttributes(transB: true)), [h, w2, nil])
        return (b.graph(output: out), w1, w2)
    }

    func fakeQuantize(_ v: Float) -> (value: Float, inside: Bool) {
        let q = (v / scale).rounded(.toNearestOrEven)
        return (min(max(q, Float(minCode)), Float(maxCode)) * scale, q >= Float(minCode) && q <= Float(maxCode))
    }

    func testGradientPassesInsideTheGridAndStopsWhereItSaturates() throws {
        let op = Op.fakeQuantize(scale: scale, zeroPoint: 0, minCode: minCode, maxCode: maxCode)
        let (graph, w1, w2) = network { b, h in b.node(op, [h]) }
        let input = Tensor<Float>(shape: [5, 3], data: (0..<15).map { Float(($0 * 7) % 11) / 5 - 1 })
        let labels = [0, 1, 1, 0, 1]

        // the reference: h·mask + (fq(h) − h·mask) with both as constants, the same forward
        // values and, by ordinary reverse mode, the masked pass-through gradient
        let plain = network { _, h in h }.0
        let hidden = try Executor<Float>(graph: plain).values([plain.nodes[0].outputs[0]], input: input)[0]
        let fq = hidden.data.map(fakeQuantize)
        XCTAssertTrue(fq.contains { !$0.inside } && fq.contains { $0.inside }, "the test needs saturated and unsaturated codes")
        let mask = Tensor<Float>(shape: hidden.shape, data: fq.map { $0.inside ? 1 : 0 })
        let offset = Tensor<Float>(shape: hidden.shape, data: zip(fq, hidden.data).map { q, h in q.value - (q.inside ? h : 0) })
        let (reference, r1, r2) = network { b, h in
            let m = b.value("mask", shape: [5, 4]); b.initializers[m] = mask
            let c = b.value("offset", shape: [5, 4]); b.initializers[c] = offset
            return b.node(.add, [b.node(.mul, [h, m]), c])
        }

        var executor = try Executor<Float>(graph: graph)
        XCTAssertThrowsError(try executor.gradient(input: input, labels: labels, wrt: [w1, w2]))
        executor.straightThroughFakeQuantize = true
        let got = try executor.gradient(input: input, labels: labels, wrt: [w1, w2])
        let want = try Executor<Float>(graph: reference).gradient(input: input, labels: labels, wrt: [r1, r2])
        XCTAssertEqual(got.loss, want.loss, accuracy: 1e-6)
        for (a, b) in [(w1, r1), (w2, r2)] {
            let x = got.gradients[a]!.data, y = want.gradients[b]!.data
            XCTAssertEqual(x.count, y.count)
            XCTAssertTrue(y.contains { $0 != 0 })
            for (u, v) in zip(x, y) { XCTAssertEqual(u, v, accuracy: 1e-6) }
        }
    }
}
