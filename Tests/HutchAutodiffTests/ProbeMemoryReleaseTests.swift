import XCTest
import HutchModel
@testable import HutchTensor
@testable import HutchAutodiff

/// The tape values a Hutchinson chunk releases before its reverse sweep (Executor+TapeRelease.swift):
/// which ones, the bytes and the peak they save, and the same bits with releasing off.
final class ProbeMemoryReleaseTests: XCTestCase {
    typealias Setup = (executor: Executor<Float>, input: Tensor<Float>, labels: [Int], directions: [[ValueID: Tensor<Float>]])

    /// `ProbeMemoryTests.net()` with a chunk of examples and k Rademacher directions on every layer.
    func probeSetup(k: Int) throws -> Setup {
        let e = try Executor<Float>(graph: ProbeMemoryTests.net())
        let n = Executor<Float>.quadraticFormChunk
        var rng = TestRandom(seed: 5)
        let input = Tensor<Float>(shape: [n, 4, 32, 32], data: rng.array(n * 4 * 32 * 32).map(Float.init))
        let directions: [[ValueID: Tensor<Float>]] = (0..<k).map { _ in
            Dictionary(uniqueKeysWithValues: e.quantizableWeights.map { id in
                (id, Tensor<Float>(shape: e.parameters[id]!.shape, data: (0..<e.parameters[id]!.count).map { _ in rng.next() & 1 == 0 ? -1 : 1 }))
            })
        }
        return (e, input, (0..<n).map { $0 % 10 }, directions)
    }

    /// The op that computes each value (nil: input or parameter).
    func producers(_ graph: Graph) -> [Op?] {
        var op = [Op?](repeating: nil, count: graph.values.count)
        for node in graph.nodes { op[node.outputs[0].index] = node.op }
        return op
    }

    func testTheTapeKeepsExactlyWhatTheReverseSweepReads() throws {
        let (e, input, _, directions) = try probeSetup(k: 2)
        let graph = e.graph
        let layers = Set(directions[0].keys)
        var tape = try e.forwardTape(input)
        var need = e.dependents(of: layers)
        need[graph.output.index] = true
        let quadratic = QuadraticForms<Float>(layers: layers, k: 2)
        let releasing = try XCTUnwrap(e.releasableTapeValues(tape, need: need, quadratic: quadratic))
        // ReLU's adjoint reads its output, a convolution's input adjoint reads only W, Add and the
        // pooling read shapes: the conv outputs, the Add and the pooled value go; the input stays
        // (c0, a 4-channel 3x3 layer of 36 multiply-adds per output, recomputes conv(x, V) from it),
        // as do the ReLU outputs, the flattened features (fc.w's adjoint reads them), the logits
        // and the parameters
        var expected = [Bool](repeating: false, count: graph.values.count)
        for (v, op) in producers(graph).enumerated() {
            switch op {
            case .conv?, .add?, .globalAveragePool?: expected[v] = true
            default: break
            }
        }
        XCTAssertEqual(releasing, expected)
        XCTAssertEqual(expected.filter { $0 }.count, 8)

        // after the tangent sweep the tape holds the kept values only, each with its shape
        let shapes = tape.values.map { $0?.shape }
        let tangents = try e.tangentSweep(&tape, Dictionary(uniqueKeysWithValues: layers.map { id in
            (id, Stacked<Float>(shape: e.parameters[id]!.shape, blocks: 2))
        }), k: 2, quadratic: quadratic, releasing: releasing)
        XCTAssertEqual(tape.values.map { $0?.shape }, shapes)
        var keptBytes = 0
        for (v, value) in tape.values.enumerated() where e.parameters[ValueID(v)] == nil {
            let bytes = (value?.count ?? 0) * MemoryLayout<Float>.stride
            XCTAssertEqual(bytes, releasing[v] ? 0 : shapes[v]!.reduce(1, *) * MemoryLayout<Float>.stride, "value \(v)")
            keptBytes += bytes
        }
        let roles = MemoryRoles<Float>(parameters: [], tape: tape.values.enumerated().map { e.parameters[ValueID($0)] == nil ? $1 : nil },
                                       tangents: tangents, weightTerms: [])
        XCTAssertEqual(roles.bytes[1].role, "tape values")
        XCTAssertEqual(roles.bytes[1].bytes, keptBytes)
        // input 8x4x32x32, six ReLU outputs of 8x16x32x32, features 8x16, logits 8x10
        XCTAssertEqual(keptBytes, 4 * (8 * 4 * 1024 + 6 * 8 * 16 * 1024 + 8 * 16 + 8 * 10))
    }

    func testReleasingLowersTheChunkPeakAndKeepsEveryBit() throws {
        let (executor, input, labels, directions) = try probeSetup(k: 4)
        var e = executor
        let releasing = try ProbeMemoryTests.run(e, input, labels, directions)
        e.releasesUnreadTapeValues = false
        let keeping = try ProbeMemoryTests.run(e, input, labels, directions)
        XCTAssertEqual(releasing.forms.forms, keeping.forms.forms, "forms bit for bit")
        XCTAssertEqual(releasing.forms.loss, keeping.forms.loss)
        // the chunk peaks when its reverse sweep starts, where the seven released 16-channel values
        // (each the largest, 512 KiB) would all be live
        let largest = 8 * 16 * 32 * 32 * MemoryLayout<Float>.stride
        XCTAssertGreaterThanOrEqual(keeping.peak - releasing.peak, 7 * largest, "peak live bytes \(releasing.peak) against \(keeping.peak)")
    }

    /// Hessian-vector products release the same way: gradients and products bit for bit, on the
    /// test graphs with BatchNormalization, Clip, pooling, depthwise and 1-D convolutions, Sigmoid,
    /// Tanh, LeakyRelu, Mul, Concat, Reshape, MatMul and Gemm.
    func testHessianVectorProductsKeepTheirBitsWhenTheTapeIsReleased() throws {
        for (name, made) in [("residual", TestGraphs.residual()), ("smooth", TestGraphs.smooth()),
                             ("smoothConv", TestGraphs.smoothConv()), ("conv1D", TestGraphs.conv1D())] {
            var e = try Executor<Float>(graph: made.0)
            var rng = TestRandom(seed: 31)
            let input = Tensor<Float>(shape: made.input, data: rng.array(made.input.reduce(1, *)).map(Float.init))
            let labels = (0..<made.input[0]).map { $0 % made.classes }
            let wrt = e.quantizableWeights
            let directions: [[ValueID: Tensor<Float>]] = (0..<2).map { _ in
                Dictionary(uniqueKeysWithValues: wrt.map { ($0, Tensor<Float>(shape: e.parameters[$0]!.shape,
                                                                               data: rng.array(e.parameters[$0]!.count).map(Float.init))) })
            }
            var need = e.dependents(of: Set(wrt))
            need[e.graph.output.index] = true
            let released = try XCTUnwrap(e.releasableTapeValues(try e.forwardTape(input), need: need))
            XCTAssertGreaterThan(released.filter { $0 }.count, 0, "\(name): something to release")
            let on = try e.hessianVectorProducts(input: input, labels: labels, wrt: wrt, directions: directions)
            let onForms = try e.hessianQuadraticForms(input: input, labels: labels, directions: directions)
            e.releasesUnreadTapeValues = false
            let off = try e.hessianVectorProducts(input: input, labels: labels, wrt: wrt, directions: directions)
            let offForms = try e.hessianQuadraticForms(input: input, labels: labels, directions: directions)
            XCTAssertEqual(on.loss, off.loss, name)
            XCTAssertEqual(on.logits.data, off.logits.data, name)
            for id in wrt {
                XCTAssertEqual(on.gradients[id]!.data, off.gradients[id]!.data, "\(name) gradient")
                for j in 0..<2 { XCTAssertEqual(on.products[j][id]!.data, off.products[j][id]!.data, "\(name) product \(j)") }
            }
            XCTAssertEqual(onForms.forms, offForms.forms, "\(name) forms")
        }
    }

    /// ReLU's derivative mask read from its output (what the reverse sweep keeps) is bit for bit
    /// the mask from its input, zeros of either sign, NaN and infinities included.
    func testReluDerivativeFromTheOutputIsTheSameAsFromTheInput() {
        var rng = TestRandom(seed: 8)
        let x: [Float] = [0, -0.0, .nan, .infinity, -.infinity, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, 1, -1]
            + rng.array(55).map(Float.init)
        let g = rng.array(2 * x.count).map(Float.init)
        var y = [Float](repeating: 0, count: x.count)
        Kernels.unaryForward(.relu, x: x, y: &y, count: x.count)
        var fromX = [Float](repeating: 0, count: g.count), fromY = fromX
        Kernels.unaryDerivativeTimes(.relu, x: x, y: y, g: g, out: &fromX, count: x.count, blocks: 2, accumulate: false)
        Kernels.unaryDerivativeTimes(.relu, x: y, y: y, g: g, out: &fromY, count: x.count, blocks: 2, accumulate: false)
        XCTAssertEqual(fromX.map(\.bitPattern), fromY.map(\.bitPattern))
        XCTAssertEqual(fromX.filter { $0 != 0 }.count, x.filter { $0 > 0 }.count * 2)
    }
}
