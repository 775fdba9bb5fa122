import Foundation
import HutchAutodiff
import HutchModel
import HutchTensor
import XCTest

/// HAWQ-V2's activation sensitivity, Tr(d^2 L / d a^2) for each layer's input activation,
/// estimated by Hutchinson on the activations against PyTorch's explicit Hessian traces
/// (`atrace:W` in tanh_mlp_ref.npz, make_fixtures.py).
final class ActivationTraceTests: XCTestCase {
    private func fixture() throws -> (graph: Graph, x: Tensor<Double>, labels: [Int], arrays: [String: NumPyArray]) {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Tests/Fixtures")
        let graph = try ONNXLoader.load(contentsOf: root.appendingPathComponent("tanh_mlp.onnx"))
        let arrays = try NumPyArchive.readNPZ(contentsOf: root.appendingPathComponent("tanh_mlp_ref.npz"))
        let x = try XCTUnwrap(arrays["x"])
        let labels = try XCTUnwrap(arrays["y"]?.integers()).map { Int($0) }
        return (graph, Tensor(shape: x.shape, data: x.doubles()), labels, arrays)
    }

    func testHutchinsonOnActivationsAgreesWithPyTorchWithinFourStandardErrors() throws {
        let (graph, x, labels, arrays) = try fixture()
        let executor = try Executor<Double>(graph: graph)
        let layers = graph.quantizableLayers
        var samples = [ValueID: [Double]]()
        for call in 0..<50 {
            let seeds = (0..<8).map { UInt64(call * 8 + $0) }
            let result = try executor.activationQuadraticForms(input: x, labels: labels, values: layers.map(\.input), seeds: seeds)
            for forms in result.forms { for (id, form) in forms { samples[id, default: []].append(form) } }
        }
        for layer in layers {
            let reference = try XCTUnwrap(arrays["atrace:\(layer.weightName)"]).doubles()[0]
            let values = try XCTUnwrap(samples[layer.input])
            let mean = values.reduce(0, +) / Double(values.count)
            let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count - 1)
            let se = (variance / Double(values.count)).squareRoot()
            XCTAssertGreaterThan(se, 0)
            XCTAssertLessThanOrEqual(abs(mean - reference), 4 * se, "\(layer.nodeName): \(mean) ± \(se) vs PyTorch \(reference)")
        }
    }

    /// The directions depend on each entry's place in the batch, so two halves with the whole
    /// batch's normalizer add up to the whole batch's forms.
    func testHalvesOfABatchAddUpToTheBatch() throws {
        let (graph, x, labels, _) = try fixture()
        let executor = try Executor<Double>(graph: graph)
        let values = graph.quantizableLayers.map(\.input)
        let n = labels.count, half = n / 2, perExample = x.count / n
        let whole = try executor.activationQuadraticForms(input: x, labels: labels, values: values, seeds: [3, 4])
        var sum = [[ValueID: Double]](repeating: [:], count: 2)
        for (first, range) in [(0, 0..<half), (half, half..<n)] {
            let part = Tensor(shape: [range.count] + x.shape.dropFirst(), data: Array(x.data[(range.lowerBound * perExample)..<(range.upperBound * perExample)]))
            let result = try executor.activationQuadraticForms(input: part, labels: Array(labels[range]), values: values, seeds: [3, 4],
                                                               firstExample: first, examples: n)
            for j in 0..<2 { for (id, form) in result.forms[j] { sum[j][id, default: 0] += form } }
        }
        for j in 0..<2 {
            for id in values { XCTAssertEqual(sum[j][id] ?? .nan, whole.forms[j][id] ?? .nan, accuracy: 1e-12 * max(1, abs(whole.forms[j][id] ?? 0))) }
        }
    }

    /// A call on more than one chunk of examples adds the chunks' forms in order: the same bits
    /// as calling each chunk of 8 with its place in the batch, and with one or two chunks at once.
    func testABatchRunsAsChunksOfEightAddedInOrder() throws {
        let (graph, x, labels, _) = try fixture()
        let executor = try Executor<Double>(graph: graph)
        let values = graph.quantizableLayers.map(\.input)
        // 24 examples: the fixture's 12 twice, three chunks
        let big = Tensor(shape: [2 * x.shape[0]] + x.shape.dropFirst(), data: x.data + x.data), all = labels + labels
        let n = all.count, perExample = x.count / x.shape[0]
        let chunked = try Kernels.withThreads(2) { () throws(ExecutionError) in
            try executor.activationQuadraticForms(input: big, labels: all, values: values, seeds: [5, 6])
        }
        let oneAtATime = try Kernels.withThreads(2) { () throws(ExecutionError) in
            try executor.activationQuadraticForms(input: big, labels: all, values: values, seeds: [5, 6], chunksInFlight: 1)
        }
        var manual = [[ValueID: Double]](repeating: [:], count: 2)
        for first in stride(from: 0, to: n, by: 8) {
            let range = first..<min(n, first + 8)
            let part = Tensor(shape: [range.count] + x.shape.dropFirst(), data: Array(big.data[(first * perExample)..<(range.upperBound * perExample)]))
            let result = try executor.activationQuadraticForms(input: part, labels: Array(all[range]), values: values, seeds: [5, 6],
                                                               firstExample: first, examples: n)
            for j in 0..<2 { for (id, form) in result.forms[j] { manual[j][id, default: 0] += form } }
        }
        XCTAssertEqual(chunked.forms, manual, "chunk forms added in chunk order, bit for bit")
        XCTAssertEqual(oneAtATime.forms, chunked.forms, "chunks in flight change no bit")
        XCTAssertTrue(chunked.forms[0].values.allSatisfy(\.isFinite))
    }
}
