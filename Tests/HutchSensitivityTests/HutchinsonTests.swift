import HutchModel
import HutchSensitivity
import XCTest

/// Hutchinson estimates against exact traces: within 4 standard errors per layer, and standard
/// errors shrinking like 1/sqrt(probes).
final class HutchinsonTests: XCTestCase {
    func hutchinson(_ c: Fixtures.Case, mode: ProbeMode, probes: Int, batchSize: Int, seed: UInt64 = 1) throws -> SensitivityResult {
        var options = TraceOptions()
        options.method = .hutchinson
        options.mode = mode
        options.probes = probes
        options.batchSize = batchSize
        options.seed = seed
        options.bits = []
        return try SensitivityAnalysis.run(graph: c.graph, dataset: c.dataset, options: options)
    }

    func checkAgreement(_ name: String, mode: ProbeMode, probes: Int, batchSize: Int) throws {
        let c = try Fixtures.load(name)
        let result = try hutchinson(c, mode: mode, probes: probes, batchSize: batchSize)
        XCTAssertEqual(result.job.method, .hutchinson)
        for layer in result.layers {
            let exact = try XCTUnwrap(c.trace(layer.layer.weightName))
            try assertWithinStandardErrors(layer, exact, probes: probes, "\(name) \(mode) \(layer.layer.nodeName)")
        }
    }

    func testJointModeAgreesWithExactOnMLP() throws { try checkAgreement("mlp", mode: .joint, probes: 200, batchSize: 5) }
    func testLayerModeAgreesWithExactOnMLP() throws { try checkAgreement("mlp", mode: .layer, probes: 200, batchSize: 5) }
    func testJointModeAgreesWithExactOnResNetSmall() throws { try checkAgreement("resnet_small", mode: .joint, probes: 100, batchSize: 3) }
    func testJointModeAgreesWithExactOnDepthwise() throws { try checkAgreement("depthwise", mode: .joint, probes: 100, batchSize: 4) }
    /// The true Hessian, not Gauss-Newton: tanh_mlp's fc1 trace is negative.
    func testTanhNetworkTrueTracesIncludingANegativeOne() throws {
        try checkAgreement("tanh_mlp", mode: .joint, probes: 200, batchSize: 5)
        try checkAgreement("tanh_mlp", mode: .layer, probes: 200, batchSize: 12)
    }

    /// One weight read by three layers in a row (ALBERT shares a layer across depth): its first
    /// reader carries the weight's true trace (PyTorch's, with the cross terms of the three
    /// uses), the other two readers 0, in joint and layer mode; exact mode is refused, as the
    /// logits are not linear in that weight.
    func testATiedWeightsTraceIsCarriedByItsFirstReader() throws {
        let c = try Fixtures.load("tiny_tied")
        for mode in [ProbeMode.joint, .layer] {
            let result = try hutchinson(c, mode: mode, probes: 200, batchSize: 4)
            var carried = Set<String>()
            for layer in result.layers {
                let what = "tiny_tied \(mode) \(layer.layer.nodeName)"
                if carried.insert(layer.layer.weightName).inserted {
                    try assertWithinStandardErrors(layer, try XCTUnwrap(c.trace(layer.layer.weightName)), probes: 200, what)
                } else {
                    XCTAssertEqual(layer.trace, 0, what)
                }
            }
            XCTAssertEqual([result.layers.count, carried.count], [5, 3], "fc1, three readers of shared.weight, fc3")
        }
        XCTAssertNotNil(c.graph.exactTraceObstacle)
    }

    /// SiLU and a squeeze-excite gate (products of two activations, EfficientNet-style): the true
    /// Hessian traces of make_fixtures.py, one of them negative (the excite conv's).
    func testSqueezeExciteAndSiLUTrueTraces() throws {
        try checkAgreement("se_silu", mode: .joint, probes: 200, batchSize: 4)
        let c = try Fixtures.load("se_silu")
        XCTAssertNotNil(c.graph.exactTraceObstacle, "not piecewise linear: exact mode is refused")
    }

    /// HardSwish (curved in its middle third) and a HardSigmoid gate, MobileNetV3-style; the stem's
    /// true trace is negative.
    func testHardSwishAndHardSigmoidTrueTraces() throws {
        try checkAgreement("hard_swish", mode: .joint, probes: 200, batchSize: 4)
        let c = try Fixtures.load("hard_swish")
        XCTAssertNotNil(c.graph.exactTraceObstacle, "HardSwish is not piecewise linear: exact mode is refused")
    }

    /// Transformer and modern-CNN ops (make_fixtures.py: ViTs with softmax attention, batch-first
    /// and PyTorch's MultiheadAttention that moves the batch and folds the heads into it, the
    /// dynamo exporter's scaled-dot-product attention with its mask and IsNaN guard, torchvision's
    /// Swin with padding, shifted windows folded into the batch and a constant mask, a BERT-style
    /// classifier on int64 token ids with an embedding lookup, and with an attention_mask input
    /// padding some examples, ConvNeXt
    /// blocks with LayerNorm and GELU, ShuffleNet units with Split, Slice and a channel shuffle),
    /// from both exporters: the true Hessian traces, several negative; exact mode is refused.
    func testTransformerAndModernCNNTrueTraces() throws {
        for name in ["tiny_vit", "tiny_vit_dynamo", "tiny_sdpa_dynamo", "tiny_torch_vit", "tiny_torch_vit_dynamo", "tiny_swin", "tiny_bert", "tiny_bert_dynamo", "tiny_bert_mask", "tiny_bert_mask_dynamo", "tiny_convnext", "tiny_convnext_dynamo", "tiny_shuffle", "tiny_shuffle_ts"] {
            try checkAgreement(name, mode: .joint, probes: 200, batchSize: 4)
            XCTAssertNotNil(try Fixtures.load(name).graph.exactTraceObstacle, "\(name): not piecewise linear")
        }
    }

    /// Hugging Face's BertForSequenceClassification with an attention_mask that pads (its mask
    /// made with And, a Range over the batch, Gather of the flattened mask or GatherND, and added
    /// through a Where whose condition is data; both exporters), the dynamo exporter's as_strided
    /// after pooling (Gather of a flattened tensor by Range-made indices), and Max of two
    /// activations, and RoBERTa's positions counted with CumSum beside a running mean (CumSum of
    /// activations): true Hessian traces; exact mode is refused but for the piecewise-linear Max.
    func testDataIndexingOpsTrueTraces() throws {
        for name in ["hf_bert_mask_tiny", "hf_bert_mask_tiny_dynamo", "tiny_strided_pool_dynamo", "tiny_max", "tiny_cumsum", "tiny_cumsum_dynamo"] {
            try checkAgreement(name, mode: .joint, probes: 200, batchSize: 4)
            XCTAssertEqual(try Fixtures.load(name).graph.exactTraceObstacle == nil, name == "tiny_max", name)
        }
    }

    /// The other loss heads through the whole trace pipeline (labels loaded by Dataset, head chosen
    /// from them): token classification and a GPT-2-style language model (token-ce, -100 ignored)
    /// and regression (mse, two batches: each divides by the whole batch's normalizer). One batch
    /// for the token heads, whose batches would otherwise weigh tokens by example (Protocols/README.md).
    func testLossHeadTracesThroughTheTracePipeline() throws {
        for (name, batch) in [("tiny_tagger", 8), ("tiny_gpt2", 8), ("tiny_gpt2_dynamo", 8), ("tiny_regressor", 5)] {
            try checkAgreement(name, mode: .joint, probes: 200, batchSize: batch)
        }
        // exact and ggn traces are softmax cross-entropy's: refused for other heads even on a ReLU
        // network, and auto falls back to Hutchinson there, saying why
        let mlp = try Fixtures.load("mlp")
        let x = try XCTUnwrap(mlp.reference["x"])
        let targets = NumPyArray(shape: [x.shape[0], 4], float32: (0..<(4 * x.shape[0])).map { Float($0 % 3) })
        let regression = try Dataset(inputs: x, labels: targets, inputsName: "x", labelsName: "y")
        try regression.validate(against: mlp.graph)
        var options = TraceOptions()
        options.bits = []
        for (method, message) in [(TraceOptions.Method.exact, "exact traces are for classification"), (.ggn, "sampled GGN traces use the softmax")] {
            options.method = method
            XCTAssertThrowsError(try SensitivityAnalysis.run(graph: mlp.graph, dataset: regression, options: options)) { error in
                XCTAssertTrue("\(error)".contains(message), "\(error)")
            }
        }
        options.method = .auto
        options.probes = 4
        let auto = try SensitivityAnalysis.run(graph: mlp.graph, dataset: regression, options: options)
        XCTAssertEqual(auto.job.method, .hutchinson)
        XCTAssertTrue(auto.fallbackReason?.contains("another loss head") == true, "\(auto.fallbackReason ?? "nil")")
    }

    func testStandardErrorShrinksLikeOneOverSqrtProbes() throws {
        let c = try Fixtures.load("mlp")
        let few = try hutchinson(c, mode: .joint, probes: 50, batchSize: 12, seed: 5)
        let many = try hutchinson(c, mode: .joint, probes: 800, batchSize: 12, seed: 5)
        for (a, b) in zip(few.layers, many.layers) {
            let ratio = try XCTUnwrap(a.standardError) / XCTUnwrap(b.standardError)
            // sqrt(800/50) = 4; the sample standard deviation of 50 probes is itself ±10 % or so
            XCTAssertGreaterThan(ratio, 3, a.layer.nodeName)
            XCTAssertLessThan(ratio, 5.3, a.layer.nodeName)
        }
    }

    func testAdaptiveStoppingReachesTheToleranceAtARoundBoundary() throws {
        let c = try Fixtures.load("mlp")
        var options = TraceOptions()
        options.method = .hutchinson
        options.bits = []
        options.batchSize = 5
        options.seed = 3
        // a tolerance that 40 probes do not meet but about 2.8x as many should
        options.probes = 40
        let first = try SensitivityAnalysis.run(graph: c.graph, dataset: c.dataset, options: options)
        let worst = first.layers.map { ($0.standardError ?? 0) / abs($0.trace) }.max() ?? 0
        options.probes = nil
        options.tolerance = 0.6 * worst
        options.maxProbes = 1000
        options.probesPerRound = 10
        let result = try SensitivityAnalysis.run(graph: c.graph, dataset: c.dataset, options: options)
        let probes = try XCTUnwrap(result.layers[0].probes)
        XCTAssertEqual(probes % 10, 0)
        XCTAssertGreaterThan(probes, 40)
        XCTAssertLessThan(probes, 1000)
        for layer in result.layers {
            XCTAssertEqual(layer.probes, probes, "joint mode: every layer shares the probes")
            XCTAssertLessThanOrEqual(try XCTUnwrap(layer.standardError) / abs(layer.trace), options.tolerance)
        }
        // one round fewer would not have met the tolerance for some layer (else it would have stopped)
        var fewer = options
        fewer.probes = probes - 10
        let earlier = try SensitivityAnalysis.run(graph: c.graph, dataset: c.dataset, options: fewer)
        XCTAssertTrue(earlier.layers.contains { ($0.standardError ?? 0) / abs($0.trace) > options.tolerance })
        // and the same probes give the same bits as a fixed-count run
        var fixed = options
        fixed.probes = probes
        let same = try SensitivityAnalysis.run(graph: c.graph, dataset: c.dataset, options: fixed)
        XCTAssertEqual(same.layers.map(\.trace.bitPattern), result.layers.map(\.trace.bitPattern))
        XCTAssertEqual(same.layers.map(\.standardError), result.layers.map(\.standardError))
    }

    /// Layer mode stops each layer once its own estimate meets the tolerance: on mlp some layers
    /// converge a round or more before the others and use fewer probes; the others go on because
    /// at that point they had not converged (a fixed run of that many probes shows it).
    func testLayerModeStopsConvergedLayersEarly() throws {
        let c = try Fixtures.load("mlp")
        var options = TraceOptions()
        options.method = .hutchinson
        options.mode = .layer
        options.tolerance = 0.08
        options.maxProbes = 300
        options.bits = []
        let result = try SensitivityAnalysis.run(graph: c.graph, dataset: c.dataset, options: options)
        let probes = try result.layers.map { try XCTUnwrap($0.probes) }
        for (layer, n) in zip(result.layers, probes) {
            let relative = try XCTUnwrap(layer.standardError) / abs(layer.trace)
            XCTAssertTrue(relative <= 0.08 || n == 300, "\(layer.layer.nodeName): \(relative) after \(n)")
        }
        let first = probes.min() ?? 0
        XCTAssertLessThan(first, probes.max() ?? 0, "some layers stop before the others: \(probes)")
        // when the first layers stopped, the others were still above the tolerance
        var fixed = options
        fixed.probes = first
        let atFirst = try SensitivityAnalysis.run(graph: c.graph, dataset: c.dataset, options: fixed)
        for (l, layer) in atFirst.layers.enumerated() {
            let relative = try XCTUnwrap(layer.standardError) / abs(layer.trace)
            if probes[l] == first {
                XCTAssertEqual(layer.trace.bitPattern, result.layers[l].trace.bitPattern, "\(layer.layer.nodeName) stopped at \(first)")
            } else {
                XCTAssertGreaterThan(relative, 0.08, "\(layer.layer.nodeName) went on to \(probes[l]) probes because it had not converged")
            }
        }
    }

    func testAutoFallsBackToHutchinsonOnTanhAndSaysWhy() throws {
        let c = try Fixtures.load("tanh_mlp")
        var options = TraceOptions()
        options.probes = 20
        options.bits = []
        let result = try SensitivityAnalysis.run(graph: c.graph, dataset: c.dataset, options: options)
        XCTAssertEqual(result.job.method, .hutchinson)
        XCTAssertTrue(result.layers.allSatisfy { $0.method == .hutchinson && $0.probes == 20 })
        XCTAssertTrue(result.fallbackReason?.contains("/Tanh") ?? false, result.fallbackReason ?? "nil")
    }
}
