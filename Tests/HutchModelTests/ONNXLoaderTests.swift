import Foundation
import HutchTestSupport
import XCTest
@testable import HutchModel

/// Loader behaviour on models built in-test with the test protobuf encoder.
final class ONNXLoaderTests: XCTestCase {
    private func weights(_ count: Int, scale: Float = 0.1) -> [Float] {
        (0..<count).map { Float($0 % 7) * scale - 0.3 }
    }

    /// x [N, 2, 5, 5] -> Conv(w [4, 2, 3, 3]) -> Relu -> Flatten -> Gemm(w [3, N*...]) -> y
    private func convNet(convAttributes: [TestAttribute] = [], extraNodes: [TestNode] = [], nanAt: Int? = nil,
                         external: Bool = false) -> [UInt8] {
        var convWeights = weights(4 * 2 * 3 * 3)
        if let nanAt { convWeights[nanAt] = .nan }
        let w = external ? TestTensor(name: "conv.w", dims: [4, 2, 3, 3], payload: .external)
                         : TestTensor.floats("conv.w", [4, 2, 3, 3], convWeights)
        return makeModel(nodes: [
            TestNode("Conv", "conv", ["x", "conv.w", "conv.b"], ["c"], convAttributes),
            TestNode("Relu", "relu", ["c"], ["r"]),
            TestNode("Flatten", "flat", ["r"], ["f"]),
            TestNode("Gemm", "fc", ["f", "fc.w"], ["y"], [.int("transB", 1)]),
        ] + extraNodes, initializers: [
            w, .floats("conv.b", [4], [0, 0.1, 0.2, 0.3], raw: false),
            .floats("fc.w", [3, 4 * 5 * 5], weights(300)),
        ], inputShape: [nil, 2, 5, 5])
    }

    private func expectModelError(_ bytes: [UInt8], contains parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try ONNXLoader.load(bytes: bytes, source: "m.onnx"), file: file, line: line) { error in
            guard let modelError = error as? ModelError else { return XCTFail("not a ModelError: \(error)", file: file, line: line) }
            let text = modelError.description
            XCTAssertFalse(text.contains("\n"), "message must be one line: \(text)", file: file, line: line)
            XCTAssertTrue(text.hasPrefix("m.onnx"), text, file: file, line: line)
            for part in parts { XCTAssertTrue(text.contains(part), "'\(part)' missing in: \(text)", file: file, line: line) }
        }
    }

    func testConvNetLoadsWithShapesAndMACs() throws {
        let graph = try ONNXLoader.load(bytes: convNet(convAttributes: [.ints("pads", [1, 1, 1, 1])]), source: "m.onnx")
        XCTAssertEqual(graph.nodes.map(\.op.onnxType), ["Conv", "Relu", "Flatten", "Gemm"])
        XCTAssertEqual(graph.values[graph.output.index].shape, [nil, 3])
        let layers = graph.quantizableLayers
        XCTAssertEqual(layers.map(\.weightName), ["conv.w", "fc.w"])
        XCTAssertEqual(layers.map(\.macsPerExample), [4 * 5 * 5 * 2 * 9, 3 * 100])
        XCTAssertEqual(graph.initializers[layers[0].weight]?.data, weights(72))
        let bias = try XCTUnwrap(graph.nodes[0].inputs[2] ?? nil)
        XCTAssertEqual(graph.initializers[bias]?.data, [0, 0.1, 0.2, 0.3])   // from packed float_data
    }

    func testConvDefaultsAndAutoPad() throws {
        func convAttributes(_ extra: [TestAttribute]) throws -> ConvAttributes {
            let x: [TestAttribute] = extra
            // fc input size depends on the conv output, so build the model with a matching Gemm.
            let probe = makeModel(nodes: [
                TestNode("Conv", "conv", ["x", "w"], ["c"], x),
                TestNode("GlobalAveragePool", "gap", ["c"], ["g"]),
                TestNode("Flatten", "flat", ["g"], ["y"]),
            ], initializers: [.floats("w", [4, 2, 3, 3], weights(72))], inputShape: [nil, 2, 6, 7])
            let graph = try ONNXLoader.load(bytes: probe, source: "m.onnx")
            // a Conv that does not load as one is a loader bug: a failure, not a skip
            let attributes: ConvAttributes? = if case .conv(let a) = graph.nodes[0].op { a } else { nil }
            return try XCTUnwrap(attributes, "the Conv node loaded as \(graph.nodes[0].op.onnxType)")
        }
        let defaults = try convAttributes([])
        XCTAssertEqual(defaults, ConvAttributes(kernelShape: [3, 3], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1))
        // SAME with stride 2 on 6x7: out 3x4, total pads 1 and 2; SAME_UPPER puts the extra at the end.
        let upper = try convAttributes([.string("auto_pad", "SAME_UPPER"), .ints("strides", [2, 2])])
        XCTAssertEqual(upper.pads, [0, 1, 1, 1])
        let lower = try convAttributes([.string("auto_pad", "SAME_LOWER"), .ints("strides", [2, 2])])
        XCTAssertEqual(lower.pads, [1, 1, 0, 1])
        let valid = try convAttributes([.string("auto_pad", "VALID"), .ints("dilations", [2, 1])])
        XCTAssertEqual(valid.pads, [0, 0, 0, 0])
        XCTAssertEqual(valid.dilations, [2, 1])
    }

    func testTruncatedModelsThrowModelErrors() throws {
        let bytes = convNet()
        for cut in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 300)) {
            XCTAssertThrowsError(try ONNXLoader.load(bytes: Array(bytes[..<cut]), source: "cut.onnx")) { error in
                XCTAssertNotNil(error as? ModelError, "cut at \(cut): \(error)")
            }
        }
    }

    func testBitFlippedModelsNeverTrap() throws {
        let bytes = try [UInt8](Data(contentsOf: modelFixtures.appendingPathComponent("resnetish_ts_opset13.onnx")))
        var generator = SplitMix(seed: 7)
        var refused = 0
        for _ in 0..<400 {
            var flipped = bytes
            let position = Int(generator.next() % UInt64(bytes.count))
            flipped[position] ^= UInt8(1 << (generator.next() % 8))
            do {
                _ = try ONNXLoader.load(bytes: flipped, source: "flip.onnx")
            } catch let error as ModelError {
                refused += 1
                XCTAssertFalse(error.description.isEmpty)
            } catch {
                XCTFail("flip at \(position): unexpected error type \(error)")
            }
        }
        // Most flips land in weight bytes (still a valid model); some must be caught.
        XCTAssertGreaterThan(refused, 0)
    }

    func testEmptyAndGarbageFiles() {
        expectModelError([], contains: ["empty"])
        expectModelError(Array("not a model at all".utf8), contains: ["not a valid ONNX file"])
    }

    /// The external data file is looked for beside the model (ExternalDataTests reads real ones).
    func testMissingExternalDataNamesTheTensorAndTheFile() {
        expectModelError(convNet(external: true), contains: ["conv.w", "'weights.bin'", "copy it beside the model"])
    }

    func testEveryUnsupportedOpIsListedAtOnce() {
        let bytes = convNet(extraNodes: [
            TestNode("TopK", "top1", ["y"], ["s1"]),
            TestNode("NonZero", "nz", ["y"], ["s2"]),
            TestNode("TopK", "top2", ["y"], ["s3"]),
            TestNode("FusedConv", "fused", ["y"], ["s4"], domain: "com.microsoft"),
        ])
        XCTAssertThrowsError(try ONNXLoader.load(bytes: bytes, source: "m.onnx")) { error in
            XCTAssertEqual(error as? ModelError, .unsupportedOps(source: "m.onnx", ops: [
                .init(opType: "TopK", nodeNames: ["top1", "top2"]),
                .init(opType: "NonZero", nodeNames: ["nz"]),
                .init(opType: "com.microsoft.FusedConv", nodeNames: ["fused"]),
            ]))
            let text = "\(error)"
            XCTAssertTrue(text.contains("TopK (top1, top2)") && text.contains("NonZero (nz)"), text)
        }
    }

    func testNaNAndInfinityInWeightsAreNamed() {
        expectModelError(convNet(nanAt: 5), contains: ["conv.w", "nan", "index 5"])
    }

    func testGraphInterfaceValidation() throws {
        // several data inputs load, packed by name (NamedInputTests has the BERT-style model)
        let twoInputs = makeModel(nodes: [TestNode("Add", "add", ["x", "x2"], ["y"])], initializers: [],
                                  inputShape: [nil, 3], extraInputs: ["x2"])
        let packed = try ONNXLoader.load(bytes: twoInputs, source: "m.onnx")
        XCTAssertEqual(packed.dataInputs.map(\.name), ["x", "x2"])
        XCTAssertEqual(packed.values[packed.input.index].shape, [nil, 6])
        let twoOutputs = makeModel(nodes: [TestNode("Relu", "r", ["x"], ["y"]), TestNode("Relu", "r2", ["x"], ["z"])],
                                   initializers: [], inputShape: [nil, 3], outputs: ["y", "z"])
        expectModelError(twoOutputs, contains: ["2 outputs"])
        let missing = makeModel(nodes: [TestNode("Gemm", "fc", ["x", "nowhere"], ["y"])], initializers: [], inputShape: [nil, 3])
        expectModelError(missing, contains: ["'fc'", "'nowhere'"])
        // [N, C] and token logits [N, T, V] are outputs Hutch takes; rank 4 is not
        let notLogits = makeModel(nodes: [TestNode("Relu", "r", ["x"], ["y"])], initializers: [], inputShape: [nil, 3, 4, 5])
        expectModelError(notLogits, contains: ["[N, 3, 4, 5]", "logits"])
    }

    func testConvChannelMismatch() {
        let bytes = makeModel(nodes: [TestNode("Conv", "conv", ["x", "w"], ["y"])],
                              initializers: [.floats("w", [4, 3, 1, 1], weights(12))], inputShape: [nil, 2, 4, 4])
        expectModelError(bytes, contains: ["'conv'", "group"])
    }

    func testGemmOptionsAndClipBeforeOpset11() throws {
        let bytes = makeModel(nodes: [
            TestNode("Gemm", "fc", ["x", "w", "b"], ["h"], [.float("alpha", 0.5), .float("beta", 2)]),
            TestNode("Clip", "clip", ["h"], ["c"], [.float("min", -1), .float("max", 2)]),
            TestNode("Clip", "clip2", ["c"], ["y"]),
        ], initializers: [.floats("w", [3, 2], weights(6)), .floats("b", [2], [1, 2])], inputShape: [nil, 3], opset: 9)
        let graph = try ONNXLoader.load(bytes: bytes, source: "m.onnx")
        XCTAssertEqual(graph.nodes[0].op, .gemm(GemmAttributes(transA: false, transB: false, alpha: 0.5, beta: 2)))
        XCTAssertEqual(graph.nodes[1].op, .clip(min: -1, max: 2))
        XCTAssertEqual(graph.nodes[2].op, .clip(min: -.infinity, max: .infinity))
        XCTAssertEqual(graph.quantizableLayers.first?.macsPerExample, 6)
    }

    func testSubDivAndConstantFolding() throws {
        // (x - mean) / std, then a Reshape whose target is computed from Shape -> Slice -> Concat.
        let bytes = makeModel(nodes: [
            TestNode("Sub", "sub", ["x", "mean"], ["s"]),
            TestNode("Div", "div", ["s", "std"], ["d"]),
            TestNode("Shape", "shape", ["d"], ["sh"]),
            TestNode("Slice", "slice", ["sh", "zero", "one"], ["batch"]),
            TestNode("Constant", "minus1", [], ["m1"], [.tensor("value", .int64s("", [1], [-1]))]),
            TestNode("Concat", "cat", ["batch", "m1"], ["target"], [.int("axis", 0)]),
            TestNode("Reshape", "reshape", ["d", "target"], ["r"]),
            TestNode("MatMul", "mm", ["r", "w"], ["y"]),
        ], initializers: [
            .floats("mean", [1, 2, 1], [0.5, -0.5]), .floats("std", [1, 2, 1], [2, 4]),
            .int64s("zero", [1], [0], raw: false), .int64s("one", [1], [1]),
            .floats("w", [6, 4], weights(24)),
        ], inputShape: [nil, 2, 3])
        let graph = try ONNXLoader.load(bytes: bytes, source: "m.onnx")
        XCTAssertEqual(graph.nodes.map(\.op.onnxType), ["Add", "Mul", "Reshape", "MatMul"])
        XCTAssertEqual(graph.nodes[2].op, .reshape(shape: [0, -1]))
        let negated = try XCTUnwrap(graph.nodes[0].inputs[1] ?? nil)
        XCTAssertEqual(graph.initializers[negated]?.data, [-0.5, 0.5])
        let reciprocal = try XCTUnwrap(graph.nodes[1].inputs[1] ?? nil)
        XCTAssertEqual(graph.initializers[reciprocal]?.data, [0.5, 0.25])
        XCTAssertEqual(graph.values[graph.output.index].shape, [nil, 4])
        XCTAssertEqual(graph.quantizableLayers.first?.macsPerExample, 24)
    }

    /// HardSigmoid with ONNX's defaults (alpha 0.2, beta 0.5) is Mul, Add and Clip to [0, 1];
    /// HardSwish (alpha 1/6) multiplies that gate by its input.
    func testHardSigmoidAndHardSwishLowerToMulAddClip() throws {
        let sigmoid = try ONNXLoader.load(bytes: makeModel(nodes: [TestNode("HardSigmoid", "hs", ["x"], ["y"])], initializers: [],
                                                           inputShape: [nil, 3]), source: "hs.onnx")
        XCTAssertEqual(sigmoid.nodes.map(\.op.onnxType), ["Mul", "Add", "Clip"])
        let constants = sigmoid.initializers.values.map(\.data).sorted { $0[0] < $1[0] }
        XCTAssertEqual(constants, [[0.2], [0.5]])
        let swish = try ONNXLoader.load(bytes: makeModel(nodes: [TestNode("HardSwish", "sw", ["x"], ["y"])], initializers: [],
                                                         inputShape: [nil, 3]), source: "sw.onnx")
        XCTAssertEqual(swish.nodes.map(\.op.onnxType), ["Mul", "Add", "Clip", "Mul"])
        XCTAssertEqual(swish.nodes.last?.inputs.first, swish.input, "x times its gate")
        XCTAssertTrue(swish.initializers.values.contains { $0.data == [Float(1) / 6] })
    }

    /// SiLU and squeeze-excite multiply two activations: a Mul node on two data values.
    func testMulOfTwoActivationsLowersToMul() throws {
        let bytes = makeModel(nodes: [TestNode("Mul", "sq", ["x", "x"], ["y"])], initializers: [], inputShape: [nil, 3])
        let graph = try ONNXLoader.load(bytes: bytes, source: "sq.onnx")
        XCTAssertEqual(graph.nodes.map(\.op.onnxType), ["Mul"])
        XCTAssertEqual(graph.nodes.first?.inputs, [graph.input, graph.input])
    }

    /// [N, 4] as [2, 2N] would put parts of different examples in one row: refused. [N, 4] as
    /// [2N, 2] keeps each example in its own rows (attention folds heads into the batch so).
    func testReshapeMixingExamplesIsRefused() throws {
        let mixing = TestTensor.int64s("t", [2], [2, -1])
        let bytes = makeModel(nodes: [TestNode("Reshape", "r", ["x", "t"], ["y"])], initializers: [mixing], inputShape: [nil, 4])
        expectModelError(bytes, contains: ["'r'", "mix examples"])
        let rows = TestTensor.int64s("t", [2], [-1, 2]), back = TestTensor.int64s("u", [2], [-1, 4])
        let folded = makeModel(nodes: [TestNode("Reshape", "r", ["x", "t"], ["z"]), TestNode("Reshape", "b", ["z", "u"], ["y"])],
                               initializers: [rows, back], inputShape: [nil, 4])
        let graph = try ONNXLoader.load(bytes: folded, source: "m.onnx")
        XCTAssertEqual(graph.values[graph.nodes[0].outputs[0].index].shape, [nil, 2], "2N rows of 2")
        XCTAssertEqual(graph.values[graph.output.index].shape, [nil, 4])
    }

    func testMaxPoolCeilModeAndAveragePoolPads() throws {
        let bytes = makeModel(nodes: [
            TestNode("MaxPool", "mp", ["x"], ["m"], [.ints("kernel_shape", [2, 2]), .ints("strides", [2, 2]), .int("ceil_mode", 1)]),
            TestNode("AveragePool", "ap", ["m"], ["a"], [.ints("kernel_shape", [3, 3]), .ints("pads", [1, 1, 1, 1]), .int("count_include_pad", 1)]),
            TestNode("GlobalAveragePool", "gap", ["a"], ["g"]),
            TestNode("Flatten", "f", ["g"], ["y"]),
        ], initializers: [], inputShape: [nil, 3, 5, 5])
        let graph = try ONNXLoader.load(bytes: bytes, source: "m.onnx")
        XCTAssertEqual(graph.values[graph.nodes[0].outputs[0].index].shape, [nil, 3, 3, 3])
        XCTAssertEqual(graph.values[graph.nodes[1].outputs[0].index].shape, [nil, 3, 3, 3])
        guard case .averagePool(let pool) = graph.nodes[1].op else { return XCTFail() }
        XCTAssertTrue(pool.countIncludePad)
        XCTAssertEqual(pool.pads, [1, 1, 1, 1])
    }

    func testUnsqueezeSqueezeOnDataBecomeReshape() throws {
        let bytes = makeModel(nodes: [
            TestNode("Unsqueeze", "u", ["x", "axes"], ["u1"]),
            TestNode("Squeeze", "s", ["u1", "axes"], ["y"]),
        ], initializers: [.int64s("axes", [1], [2])], inputShape: [nil, 3])
        let graph = try ONNXLoader.load(bytes: bytes, source: "m.onnx")
        XCTAssertEqual(graph.nodes.map(\.op), [.reshape(shape: [0, 3, 1]), .reshape(shape: [0, 3])])
    }
}

typealias SplitMix = SplitMix64

final class ONNXLoweringTests: XCTestCase {
    func testBatchNormDropoutConcatAndActivations() throws {
        let bytes = makeModel(nodes: [
            TestNode("BatchNormalization", "bn", ["x", "scale", "bias", "mean", "var"], ["b"], [.float("epsilon", 1e-3)]),
            TestNode("Dropout", "drop", ["b", "ratio"], ["d"]),
            TestNode("Tanh", "tanh", ["d"], ["t"]),
            TestNode("LeakyRelu", "leaky", ["d"], ["l"]),
            TestNode("Concat", "cat", ["t", "l"], ["c"], [.int("axis", 1)]),
            TestNode("ReduceMean", "mean", ["c"], ["m"], [.ints("axes", [2, 3]), .int("keepdims", 1)]),
            TestNode("Identity", "id", ["m"], ["i"]),
            TestNode("Flatten", "flat", ["i"], ["y"], [.int("axis", -3)]),
        ], initializers: [
            .floats("scale", [2], [1, 2]), .floats("bias", [2], [0, 1]), .floats("mean", [2], [0.5, 0]),
            .floats("var", [2], [1, 4]), .floats("ratio", [], [0.5]),
        ], inputShape: [nil, 2, 3, 3])
        let graph = try ONNXLoader.load(bytes: bytes, source: "m.onnx")
        XCTAssertEqual(graph.nodes.map(\.op), [
            .batchNormalization(epsilon: 1e-3), .identity, .tanh, .leakyRelu(alpha: 0.01), .concat(axis: 1),
            .globalAveragePool, .identity, .flatten(axis: 1),
        ])
        XCTAssertEqual(graph.nodes[0].inputs.count, 5)
        XCTAssertEqual(graph.values[graph.nodes[4].outputs[0].index].shape, [nil, 4, 3, 3])
        XCTAssertEqual(graph.values[graph.output.index].shape, [nil, 4])
        XCTAssertTrue(graph.quantizableLayers.isEmpty)
    }

    func testBatchNormTrainingModeIsRefused() {
        let bytes = makeModel(nodes: [
            TestNode("BatchNormalization", "bn", ["x", "s", "s", "s", "s"], ["y"], [.int("training_mode", 1)]),
        ], initializers: [.floats("s", [2], [1, 1])], inputShape: [nil, 2])
        XCTAssertThrowsError(try ONNXLoader.load(bytes: bytes, source: "m.onnx")) { error in
            XCTAssertTrue("\(error)".contains("'bn'") && "\(error)".contains("eval mode"), "\(error)")
        }
    }

    func testTypedFieldsDoublesAndUnpackedInt64s() throws {
        // Weights as double_data (widened to float) and the reshape target as unpacked int64_data.
        let bytes = makeModel(nodes: [
            TestNode("Reshape", "r", ["x", "target"], ["f"]),
            TestNode("MatMul", "mm", ["f", "w"], ["y"]),
        ], initializers: [
            TestTensor(name: "w", dims: [4, 2], payload: .doubles([1, 2, 3, 4, 5, 6, 7, 8])),
            .int64s("target", [2], [0, 4], raw: false),
        ], inputShape: [nil, 2, 2])
        let graph = try ONNXLoader.load(bytes: bytes, source: "m.onnx")
        let layer = try XCTUnwrap(graph.quantizableLayers.first)
        XCTAssertEqual(graph.initializers[layer.weight]?.data, [1, 2, 3, 4, 5, 6, 7, 8])
        XCTAssertEqual(graph.nodes[0].op, .reshape(shape: [0, 4]))
        XCTAssertEqual(layer.macsPerExample, 8)
    }

    func testRawDataOfWrongLengthIsRefused() {
        let bad = TestTensor(name: "w", dims: [4, 2], payload: .floats([1, 2, 3], raw: true))
        let bytes = makeModel(nodes: [TestNode("MatMul", "mm", ["x", "w"], ["y"])], initializers: [bad], inputShape: [nil, 4])
        XCTAssertThrowsError(try ONNXLoader.load(bytes: bytes, source: "m.onnx")) { error in
            XCTAssertTrue("\(error)".contains("'w'") && "\(error)".contains("12 bytes"), "\(error)")
        }
    }
}

final class ONNXHostileInputTests: XCTestCase {
    private func expectRefused(_ bytes: [UInt8], _ part: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try ONNXLoader.load(bytes: bytes, source: "h.onnx"), file: file, line: line) { error in
            XCTAssertTrue((error as? ModelError)?.description.contains(part) == true, "\(error)", file: file, line: line)
        }
    }

    func testHugeSizesAreRefusedWithoutOverflow() {
        let huge = Int64(Int32.max)
        // A reshape target whose product overflows Int.
        expectRefused(makeModel(nodes: [TestNode("Reshape", "r", ["x", "t"], ["y"])],
                                initializers: [.int64s("t", [4], [0, huge, huge, huge])], inputShape: [nil, 4]), "'r'")
        // An input of 2^31 x 2^31 elements per example.
        expectRefused(makeModel(nodes: [TestNode("Relu", "r", ["x"], ["y"])], initializers: [], inputShape: [nil, huge, huge]), "too large")
        // An initializer whose dims claim 2^62 elements.
        expectRefused(makeModel(nodes: [TestNode("MatMul", "mm", ["x", "w"], ["y"])],
                                initializers: [.floats("w", [huge, huge], [1])], inputShape: [nil, 4]), "'w'")
        // Pads far beyond any real model.
        expectRefused(makeModel(nodes: [TestNode("MaxPool", "p", ["x"], ["y"], [.ints("kernel_shape", [1]), .ints("pads", [huge, huge])])],
                                initializers: [], inputShape: [nil, 1, 4]), "pads")
        // ConstantOfShape asked for 2^62 elements.
        expectRefused(makeModel(nodes: [
            TestNode("ConstantOfShape", "c", ["s"], ["k"]), TestNode("Add", "a", ["x", "k"], ["y"]),
        ], initializers: [.int64s("s", [2], [huge, huge])], inputShape: [nil, 4]), "'c'")
        // A Slice step of Int64.min.
        expectRefused(makeModel(nodes: [
            TestNode("Slice", "s", ["d", "st", "en", "ax", "step"], ["k"]), TestNode("Reshape", "r", ["x", "k"], ["y"]),
        ], initializers: [.int64s("d", [2], [0, 4]), .int64s("st", [1], [-1]), .int64s("en", [1], [Int64.min]),
                          .int64s("ax", [1], [0]), .int64s("step", [1], [Int64.min])], inputShape: [nil, 4]), "'r'")
    }

    func testRandomByteDamageOfInTestModelsNeverTraps() {
        let base = makeModel(nodes: [
            TestNode("Shape", "shape", ["x"], ["s"]),
            TestNode("Gather", "g", ["s", "zero"], ["b"]),
            TestNode("Unsqueeze", "u", ["b", "axes"], ["bu"]),
            TestNode("Concat", "c", ["bu", "m1"], ["t"], [.int("axis", 0)]),
            TestNode("Reshape", "r", ["x", "t"], ["f"]),
            TestNode("Gemm", "fc", ["f", "w", "bias"], ["y"], [.int("transB", 1)]),
        ], initializers: [
            .int64s("zero", [], [0]), .int64s("axes", [1], [0]), .int64s("m1", [1], [-1]),
            .floats("w", [3, 8], (0..<24).map { Float($0) }), .floats("bias", [3], [1, 2, 3]),
        ], inputShape: [nil, 2, 4])
        XCTAssertNoThrow(try ONNXLoader.load(bytes: base, source: "base.onnx"))
        var generator = SplitMix(seed: 11)
        for _ in 0..<1000 {
            var bytes = base
            for _ in 0..<(1 + Int(generator.next() % 3)) {
                let position = Int(generator.next() % UInt64(bytes.count))
                bytes[position] = UInt8(truncatingIfNeeded: generator.next())
            }
            do { _ = try ONNXLoader.load(bytes: bytes, source: "fuzz.onnx") } catch is ModelError {} catch {
                XCTFail("unexpected error type \(error)")
            }
        }
    }
}

final class ONNXFoldingTests: XCTestCase {
    func testTransposeOfWeightIsFolded() throws {
        // w [2, 3] transposed to [3, 2]: element (i, j) of the result is w[j][i].
        let bytes = makeModel(nodes: [
            TestNode("Transpose", "t", ["w"], ["wt"], [.ints("perm", [1, 0])]),
            TestNode("MatMul", "mm", ["x", "wt"], ["y"]),
        ], initializers: [.floats("w", [2, 3], [1, 2, 3, 4, 5, 6])], inputShape: [nil, 3])
        let graph = try ONNXLoader.load(bytes: bytes, source: "m.onnx")
        let layer = try XCTUnwrap(graph.quantizableLayers.first)
        XCTAssertEqual(layer.shape, [3, 2])
        XCTAssertEqual(graph.initializers[layer.weight]?.data, [1, 4, 2, 5, 3, 6])
        XCTAssertEqual(layer.weightName, "wt")
    }

    /// Transpose of data lowers (the batch may move, as in PyTorch's MultiheadAttention); the
    /// logits must still come out as [N, classes].
    func testTransposeOnDataLowersAndTheLogitsKeepTheBatchFirst() throws {
        let moved = makeModel(nodes: [TestNode("Transpose", "t", ["x"], ["y"])], initializers: [], inputShape: [nil, 3])
        XCTAssertThrowsError(try ONNXLoader.load(bytes: moved, source: "m.onnx")) { error in
            XCTAssertTrue("\(error)".contains("[3, N]") && "\(error)".contains("logits"), "\(error)")
        }
        let shape = TestTensor.int64s("s", [2], [0, 6])
        let bytes = makeModel(nodes: [TestNode("Transpose", "t", ["x"], ["xt"], [.ints("perm", [0, 2, 1])]),
                                      TestNode("Reshape", "r", ["xt", "s"], ["y"])],
                              initializers: [shape], inputShape: [nil, 2, 3])
        let graph = try ONNXLoader.load(bytes: bytes, source: "m.onnx")
        XCTAssertEqual(graph.nodes.map(\.op), [.transpose(perm: [0, 2, 1]), .reshape(shape: [0, 6])])
    }

    /// MobileViT's traced size rounding: a static size divided, rounded up (Ceil) or down (Floor),
    /// multiplied back and cast to the Reshape's target folds at load time.
    func testCeilAndFloorOfStaticSizesFold() throws {
        for (op, rows) in [("Ceil", 4), ("Floor", 2)] {
            // x [N, 4, 3]: its last size 3 / 2 = 1.5 -> 2 (Ceil) or 1 (Floor), times 2: x as [N, 12 / rows, rows]
            let bytes = makeModel(nodes: [
                TestNode("Shape", "shape", ["x"], ["sh"]),
                TestNode("Gather", "g", ["sh", "one"], ["width"], [.int("axis", 0)]),
                TestNode("Cast", "tofloat", ["width"], ["wf"], [.int("to", 1)]),
                TestNode("Div", "half", ["wf", "two"], ["h"]),
                TestNode(op, "round", ["h"], ["r"]),
                TestNode("Mul", "double", ["r", "two"], ["d"]),
                TestNode("Cast", "toint", ["d"], ["di"], [.int("to", 7)]),
                TestNode("Unsqueeze", "u", ["di", "axes"], ["du"]),
                TestNode("Concat", "cat", ["keep", "m1", "du"], ["target"], [.int("axis", 0)]),
                TestNode("Reshape", "reshape", ["x", "target"], ["f"]),
                TestNode("ReduceMean", "mean", ["f"], ["y"], [.ints("axes", [2]), .int("keepdims", 0)]),
            ], initializers: [
                .int64s("one", [], [2]), .floats("two", [], [2]), .int64s("axes", [1], [0]), .int64s("m1", [1], [-1]),
                .int64s("keep", [1], [0]),
            ], inputShape: [nil, 4, 3])
            let graph = try ONNXLoader.load(bytes: bytes, source: "m.onnx")
            XCTAssertEqual(graph.nodes.map(\.op.onnxType), ["Reshape", "ReduceMean"], op)
            XCTAssertEqual(graph.values[graph.nodes[0].outputs[0].index].shape, [nil, 12 / rows, rows], op)
        }
    }
}

final class ONNXPruningTests: XCTestCase {
    func testDeadBranchesAndUnusedInitializersAreDropped() throws {
        let bytes = makeModel(nodes: [
            TestNode("Relu", "dead", ["x"], ["d"]),
            TestNode("MatMul", "deadmm", ["d", "unused"], ["dm"]),
            TestNode("MatMul", "mm", ["x", "w"], ["h"]),
            TestNode("Relu", "r", ["h"], ["y"]),
        ], initializers: [.floats("w", [3, 2], [1, 2, 3, 4, 5, 6]), .floats("unused", [3, 3], Array(repeating: 1, count: 9))],
        inputShape: [nil, 3])
        let graph = try ONNXLoader.load(bytes: bytes, source: "m.onnx")
        XCTAssertEqual(graph.nodes.map(\.name), ["mm", "r"])
        XCTAssertEqual(graph.values.map(\.name), ["x", "w", "h", "y"])
        XCTAssertEqual(graph.input, ValueID(0))
        XCTAssertEqual(graph.output, ValueID(3))
        XCTAssertEqual(graph.nodes[0].inputs, [ValueID(0), ValueID(1)])
        XCTAssertEqual(graph.initializers.keys.sorted(), [ValueID(1)])
        XCTAssertEqual(graph.quantizableLayers.map(\.weightName), ["w"])
    }
}
