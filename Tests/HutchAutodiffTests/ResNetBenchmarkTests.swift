import XCTest
import Foundation
import HutchModel
import HutchTensor
@testable import HutchAutodiff

extension TestGraphs {
    /// ResNet-20 for CIFAR (BN folded into conv biases), as `torch.onnx.export` gives it.
    static func resNet20() -> Graph {
        var b = GraphBuilder(seed: 20, input: [nil, 3, 32, 32])
        func convBias(_ x: ValueID, _ cin: Int, _ cout: Int, _ k: Int, _ stride: Int, _ name: String) -> ValueID {
            let p = k / 2
            let scale = (2.0 / Double(cin * k * k)).squareRoot() * 1.7
            return b.node(conv([k, k], strides: [stride, stride], pads: [p, p, p, p]),
                          [x, b.parameter("\(name).w", [cout, cin, k, k], scale: scale), b.parameter("\(name).b", [cout], scale: 0.05)],
                          name: "/\(name)/Conv")
        }
        var h = b.node(.relu, [convBias(b.input, 3, 16, 3, 1, "conv")])
        var cin = 16
        for (stage, cout) in [16, 32, 64].enumerated() {
            for block in 0..<3 {
                let stride = (block == 0 && stage > 0) ? 2 : 1
                let name = "layer\(stage + 1).\(block)"
                var r = b.node(.relu, [convBias(h, cin, cout, 3, stride, "\(name).c1")])
                r = convBias(r, cout, cout, 3, 1, "\(name).c2")
                let shortcut = (stride != 1 || cin != cout) ? convBias(h, cin, cout, 1, stride, "\(name).sc") : h
                h = b.node(.relu, [b.node(.add, [r, shortcut])])
                cin = cout
            }
        }
        h = b.node(.flatten(axis: 1), [b.node(.globalAveragePool, [h])])
        h = b.node(.gemm(GemmAttributes(transB: true)), [h, b.parameter("fc.w", [10, 64], scale: 0.3), b.parameter("fc.b", [10], scale: 0.1)],
                   name: "/fc/Gemm")
        return b.graph(output: h)
    }
}

/// Timings on ResNet-20 with a 128 batch, printed only (HUTCH_BENCH=1).
final class ResNetBenchmarkTests: XCTestCase {
    func seconds(_ body: () throws -> Void) rethrows -> Double {
        let t0 = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    }

    func testResNet20Timings() throws {
        guard ProcessInfo.processInfo.environment["HUTCH_BENCH"] == "1" else { throw XCTSkip("set HUTCH_BENCH=1") }
        let graph = TestGraphs.resNet20()
        let e = try Executor<Float>(graph: graph)
        var rng = TestRandom(seed: 1)
        let input = Tensor<Float>(shape: [128, 3, 32, 32], data: rng.array(128 * 3 * 32 * 32).map(Float.init))
        let labels = (0..<128).map { $0 % 10 }
        let weights = e.quantizableWeights
        let wrt = Array(graph.initializers.keys).sorted()
        print("ResNet-20, batch 128, \(weights.count) quantizable layers")
        let fwd = try seconds { _ = try e.logits(input) }
        print(String(format: "  forward              %.3f s", fwd))
        let grad = try seconds { _ = try e.gradient(input: input, labels: labels, wrt: wrt) }
        print(String(format: "  forward+gradient     %.3f s", grad))
        let ks = (ProcessInfo.processInfo.environment["HUTCH_BENCH_K"] ?? "1,4").split(separator: ",").compactMap { Int($0) }
        for k in ks {
            let directions: [[ValueID: Tensor<Float>]] = (0..<k).map { _ in
                var d = [ValueID: Tensor<Float>]()
                for id in wrt { let p = e.parameters[id]!; d[id] = Tensor(shape: p.shape, data: (0..<p.count).map { _ in rng.next() & 1 == 0 ? -1 : 1 }) }
                return d
            }
            // the second call is the steady state of a Hutchinson loop (buffers pooled)
            _ = try e.hessianVectorProducts(input: input, labels: labels, wrt: wrt, directions: directions)
            let t = try seconds { _ = try e.hessianVectorProducts(input: input, labels: labels, wrt: wrt, directions: directions) }
            print(String(format: "  HVP k=%d              %.3f s total, %.3f s per probe", k, t, t / Double(k)))
            let weightDirections = directions.map { $0.filter { weights.contains($0.key) } }
            let first = try e.hessianQuadraticForms(input: input, labels: labels, directions: weightDirections)
            // a digest of the bits, to compare runs with different HUTCH_THREADS
            let digest = first.forms.flatMap { f in weights.map { f[$0]!.bitPattern } }.reduce(UInt64(0)) { ($0 &* 31) &+ $1 }
            print("  quadratic forms k=\(k) digest \(String(digest, radix: 16))")
            let q = try seconds { _ = try e.hessianQuadraticForms(input: input, labels: labels, directions: weightDirections) }
            print(String(format: "  quadratic forms k=%d  %.3f s total, %.3f s per probe", k, q, q / Double(k)))
        }
        if ProcessInfo.processInfo.environment["HUTCH_BENCH_EXACT"] == "1" {
            _ = try e.exactHessianTraces(input: input, layers: weights)
            let t = try seconds { _ = try e.exactHessianTraces(input: input, layers: weights) }
            print(String(format: "  exact traces (all layers)  %.3f s", t))
        }
    }
}
