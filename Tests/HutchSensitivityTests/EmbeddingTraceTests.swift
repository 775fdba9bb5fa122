import HutchModel
import HutchSensitivity
import XCTest

/// The Hessian trace of an embedding table (tiny_embed: Gather, mean over tokens, Linear, ReLU,
/// Linear, piecewise linear) against PyTorch's torch.func.hessian (`trace:words.weight`) by every
/// method, and the tie of GPT-2's token table with its language-model head.
final class EmbeddingTraceTests: XCTestCase {
    private func run(_ method: TraceOptions.Method, probes: Int = 200, mode: ProbeMode = .joint) throws -> (Fixtures.Case, SensitivityResult) {
        let c = try Fixtures.load("tiny_embed")
        var options = TraceOptions()
        options.method = method
        options.mode = mode
        options.probes = probes
        options.batchSize = 3
        options.seed = 7
        options.bits = []
        return (c, try SensitivityAnalysis.run(graph: c.graph, dataset: c.dataset, options: options))
    }

    /// Exact mode's per-example norms of the table's gradient (ids repeat within examples: their
    /// rows are summed before squaring) give the trace to float rounding.
    func testExactTracesMatchTorch() throws {
        let (c, result) = try run(.exact)
        XCTAssertNil(c.graph.exactTraceObstacle)
        XCTAssertEqual(result.layers.map(\.layer.opType), ["Gather", "Gemm", "Gemm"])
        for layer in result.layers {
            assertRelative(layer.trace, try XCTUnwrap(c.trace(layer.layer.weightName)), 1e-4, layer.layer.nodeName)
        }
    }

    func testSampledEstimatesAgreeWithinFourStandardErrors() throws {
        for (method, mode) in [(TraceOptions.Method.hutchinson, ProbeMode.joint), (.hutchinson, .layer), (.ggn, .joint)] {
            let (c, result) = try run(method, mode: mode)
            for layer in result.layers {
                try assertWithinStandardErrors(layer, try XCTUnwrap(c.trace(layer.layer.weightName)), probes: 200,
                                               "\(method) \(mode) \(layer.layer.nodeName)")
            }
        }
    }

    /// Both exporters fold GPT-2's tied head into a transposed copy of the token table: the two
    /// layers hold one weight and get one tie group, the lookup's name.
    func testGPT2sTiedHeadSharesTheTablesWidth() throws {
        for name in ["hf_gpt2_tiny", "hf_gpt2_tiny_dynamo"] {
            let graph = try ONNXLoader.load(contentsOf: Fixtures.directory.appendingPathComponent("\(name).onnx"))
            let layers = graph.quantizableLayers, groups = graph.tieGroups
            let table = try XCTUnwrap(layers.firstIndex { !$0.readsActivation }, name)
            let head = layers.count - 1
            XCTAssertEqual(layers[head].opType, "MatMul", name)
            XCTAssertEqual(groups[table], layers[table].nodeName, name)
            XCTAssertEqual(groups[head], layers[table].nodeName, name)
            XCTAssertEqual(groups.compactMap { $0 }.count, 2, "\(name): nothing else is tied")
        }
        // an untied model: its head is its own
        let untied = try Fixtures.load("tiny_gpt2").graph
        XCTAssertTrue(untied.tieGroups.allSatisfy { $0 == nil })
    }
}
