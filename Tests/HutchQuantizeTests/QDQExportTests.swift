import HutchTestSupport
import Foundation
import HutchAutodiff
import HutchModel
import HutchTensor
import HutchQuantize
import XCTest

final class QDQExportTests: XCTestCase {
    private func quantized(_ bits: [Int], activations: Bool = true) throws -> QuantizedModel {
        let graph = try ExampleModel.graph()
        let data = try ExampleModel.data().prefix(64)
        return try ModelQuantizer(graph: graph, widths: bits.map { LayerWidths(weightBits: $0, activationBits: 8) })
            .quantize(calibration: activations ? data.inputs : nil)
    }

    /// Signed 4-bit raw data back to codes (two per byte, low nibble first).
    private func int4Codes(_ raw: [UInt8], count: Int) -> [Int32] {
        (0..<count).map { i in
            let nibble = Int32(i % 2 == 0 ? raw[i / 2] & 0x0F : raw[i / 2] >> 4)
            return nibble >= 8 ? nibble - 16 : nibble
        }
    }

    func testWeightsBecomeIntegerInitializersWithPerAxisDequantizeLinear() throws {
        let model = try quantized([4, 4, 8, 3, 12, 2, 4])
        let exported = try QDQExporter.export(model, original: try ExampleModel.proto(), source: "example")
        XCTAssertEqual(exported.defaultOpset, 21)
        XCTAssertEqual(exported.irVersion, 10)
        let graph = try XCTUnwrap(exported.graph)
        let initializers = Dictionary(graph.initializers.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for layer in model.layers {
            XCTAssertNil(initializers[layer.weightName], "float weight \(layer.weightName) is gone")
            let codes = try XCTUnwrap(initializers[layer.weightName + "_hutch_quantized"])
            let expectedType: Int32 = layer.weight.bits <= 4 ? 22 : layer.weight.bits <= 8 ? 3 : 5
            XCTAssertEqual(codes.dataType, expectedType, layer.node)
            XCTAssertEqual(codes.dims, layer.weight.shape.map(Int64.init))
            if expectedType == 22 {
                XCTAssertEqual(int4Codes(codes.rawData ?? [], count: layer.weight.codes.count), layer.weight.codes)
            }
            let dq = try XCTUnwrap(graph.nodes.first { $0.outputs == [layer.weightName] })
            XCTAssertEqual(dq.opType, "DequantizeLinear")
            XCTAssertEqual(dq.attribute("axis")?.i, 0)
            XCTAssertEqual(initializers[layer.weightName + "_hutch_scale"]?.dims, [Int64(layer.weight.shape[0])])
        }
        // Biases stay float; every quantized layer reads a dequantized activation.
        XCTAssertTrue(graph.initializers.filter { $0.name.hasSuffix("bias") }.allSatisfy { $0.dataType == 1 })
        let layerNodes = graph.nodes.filter { ["Conv", "Gemm"].contains($0.opType) }
        XCTAssertEqual(layerNodes.count, 7)
        XCTAssertTrue(layerNodes.allSatisfy { $0.inputs[0].hasSuffix("_hutch_dequantized") })
        XCTAssertEqual(graph.nodes.filter { $0.opType == "QuantizeLinear" }.count, model.inputs.count)
        // Topological: every node input is produced earlier, an initializer or the graph input.
        var known = Set(graph.initializers.map(\.name)).union(graph.inputs.map(\.name))
        for node in graph.nodes {
            for input in node.inputs where !input.isEmpty { XCTAssertTrue(known.contains(input), "\(node.name) reads \(input) before it exists") }
            known.formUnion(node.outputs)
        }
        // The encoding decodes to the same messages.
        let again = try ONNXModelProto(decoding: exported.encoded())
        XCTAssertEqual(again.graph?.nodes.count, graph.nodes.count)
    }

    func testWeightsOnlyAddsNoActivationNodes() throws {
        let model = try quantized(Array(repeating: 4, count: 7), activations: false)
        let exported = try QDQExporter.export(model, original: try ExampleModel.proto(), source: "example")
        let nodes = try XCTUnwrap(exported.graph).nodes
        XCTAssertEqual(nodes.filter { $0.opType == "QuantizeLinear" }.count, 0)
        XCTAssertEqual(nodes.filter { $0.opType == "DequantizeLinear" }.count, 7)
    }

    func testOpsetChoice() {
        XCTAssertEqual(QDQExporter.targetOpset(13, opTypes: ["Conv", "Gemm"]), 21)
        XCTAssertEqual(QDQExporter.targetOpset(17, opTypes: ["Conv", "ReduceMean"]), 17)
        XCTAssertEqual(QDQExporter.targetOpset(18, opTypes: ["Conv", "ReduceMean"]), 21)
        XCTAssertEqual(QDQExporter.targetOpset(22, opTypes: ["Conv"]), 22)
        XCTAssertEqual(QDQExporter.targetOpset(11, opTypes: ["Conv"]), 11)
    }

    func testWithoutOpset21NarrowWeightsUseInt8AndOldOpsetsAreRefused() throws {
        let model = try quantized([4, 3, 2, 4, 4, 4, 12], activations: false)
        var proto = try ExampleModel.proto()
        proto.graph?.nodes.append({ var n = ONNXNodeProto(); n.opType = "ReduceMean"; return n }())
        let exported = try QDQExporter.export(model, original: proto, source: "example")
        XCTAssertEqual(exported.defaultOpset, 17)
        let types = Dictionary(try XCTUnwrap(exported.graph).initializers.map { ($0.name, $0.dataType) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(types[model.layers[0].weightName + "_hutch_quantized"], 3)  // INT8 holding 4-bit codes
        XCTAssertEqual(types[model.layers[6].weightName + "_hutch_quantized"], 6)  // INT32 holding 12-bit codes

        var old = try ExampleModel.proto()
        old.opsetImports = old.opsetImports.map { var id = $0; id.version = 11; return id }
        XCTAssertThrowsError(try QDQExporter.export(model, original: old, source: "old.onnx")) { error in
            XCTAssertTrue("\(error)".contains("opset_version >= 13"), "\(error)")
        }
    }

    func testActivationsNarrowerThanEightBitsAreClippedToTheirCodeRange() throws {
        let graph = try ExampleModel.graph()
        let data = try ExampleModel.data().prefix(32)
        let model = try ModelQuantizer(graph: graph, widths: Array(repeating: LayerWidths(weightBits: 4, activationBits: 4), count: 7))
            .quantize(calibration: data.inputs)
        let exported = try QDQExporter.export(model, original: try ExampleModel.proto(), source: "example")
        let clips = try XCTUnwrap(exported.graph).nodes.filter { $0.opType == "Clip" }
        XCTAssertEqual(clips.count, model.inputs.count)
        // narrow containers: 3-bit codes in UINT4 still need the Clip, 4-bit ones do not
        for (bits, clipped) in [(3, true), (4, false)] {
            let narrow = try ModelQuantizer(graph: graph, widths: Array(repeating: LayerWidths(weightBits: 4, activationBits: bits), count: 7))
                .quantize(calibration: data.inputs)
            let nodes = try XCTUnwrap(QDQExporter.export(narrow, original: try ExampleModel.proto(), source: "example", narrowActivations: true).graph).nodes
            XCTAssertEqual(nodes.filter { $0.opType == "Clip" }.count, clipped ? narrow.inputs.count : 0, "\(bits) bits")
        }
    }

    /// Per-layer activation widths of a joint plan: each layer's input gets its own pair at its
    /// width (4 bits: UINT8 behind a Clip, or UINT4 with narrowActivations; 8 bits: UINT8); a
    /// tensor read by two layers (the block-2 fork) has one pair.
    func testPerLayerActivationWidthsGetTheirOwnContainers() throws {
        let graph = try ExampleModel.graph()
        let data = try ExampleModel.data().prefix(32)
        let widths = zip([8, 5, 5, 4, 4, 4, 8], [4, 4, 4, 8, 8, 4, 8]).map { LayerWidths(weightBits: $0, activationBits: $1) }
        let model = try ModelQuantizer(graph: graph, widths: widths).quantize(calibration: data.inputs)
        XCTAssertEqual(model.inputs.map(\.bits), [4, 4, 4, 8, 4, 8], "layers 3 and 4 read one tensor")
        for narrowActivations in [false, true] {
            let exported = try XCTUnwrap(QDQExporter.export(model, original: try ExampleModel.proto(), source: "example",
                                                            narrowActivations: narrowActivations).graph)
            let types = Dictionary(exported.initializers.map { ($0.name, $0.dataType) }, uniquingKeysWith: { a, _ in a })
            for activation in model.inputs {
                let uint4 = narrowActivations && activation.bits == 4
                XCTAssertEqual(types[activation.name + "_hutch_zero_point"], uint4 ? 21 : 2, activation.name)
                let quantize = try XCTUnwrap(exported.nodes.first { $0.name == activation.name + "_hutch_QuantizeLinear" })
                // a Clip only before a pair narrower than its container
                XCTAssertEqual(quantize.inputs[0], activation.bits == 4 && !uint4 ? activation.name + "_hutch_clipped" : activation.name)
            }
            let layers = exported.nodes.filter { ["Conv", "Gemm"].contains($0.opType) }
            XCTAssertEqual(Set(layers.map { $0.inputs[0] }).count, 6)
            XCTAssertTrue(layers.allSatisfy { $0.inputs[0].hasSuffix("_hutch_dequantized") })
        }
    }

    func testUINT4ActivationsNeedOpset21() throws {
        let graph = try ExampleModel.graph()
        let data = try ExampleModel.data().prefix(16)
        let widths = (0 ..< 7).map { LayerWidths(weightBits: 8, activationBits: $0 == 2 ? 4 : 8) }
        let model = try ModelQuantizer(graph: graph, widths: widths).quantize(calibration: data.inputs)
        var proto = try ExampleModel.proto()
        proto.graph?.nodes.append({ var n = ONNXNodeProto(); n.opType = "ReduceMean"; return n }())
        XCTAssertNoThrow(try QDQExporter.export(model, original: proto, source: "m.onnx"), "UINT8 with a Clip needs no opset 21")
        XCTAssertThrowsError(try QDQExporter.export(model, original: proto, source: "m.onnx", narrowActivations: true)) { error in
            XCTAssertTrue("\(error)".contains("at 4 bits needs UINT4, which needs opset 21; this model stays at opset 17"), "\(error)")
            XCTAssertFalse("\(error)".contains("\n"))
        }
    }
}

/// Every committed fixture model the loader accepts exports (uniform 4-bit weights, 8-bit
/// activations calibrated on seeded random inputs). With HUTCH_EXPORT_DIR set, the QDQ models,
/// the inputs (.npz) and Hutch's fake-quantized logits (.npy) are written there for
/// Tests/Fixtures/export/check_onnxruntime.py.
final class FixtureModelExportTests: XCTestCase {
    func testEveryLoadableFixtureModelExports() throws {
        let fixtures = ExampleModel.root.appendingPathComponent("Tests/Fixtures")
        var urls: [URL] = []
        for directory in [fixtures, fixtures.appendingPathComponent("model")] {
            urls += try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
                .filter { $0.pathExtension == "onnx" }
        }
        let outDirectory = ProcessInfo.processInfo.environment["HUTCH_EXPORT_DIR"].map { URL(fileURLWithPath: $0) }
        var exported = 0
        for url in urls.sorted(by: { $0.path < $1.path }) {
            guard let graph = try? ONNXLoader.load(contentsOf: url) else { continue }
            let proto = try ONNXModelProto(decoding: [UInt8](try Data(contentsOf: url)))
            guard (proto.defaultOpset ?? 0) >= 13 else { continue }
            let declared = graph.values[graph.input.index].shape ?? []
            let example = declared.dropFirst().map { $0 ?? 1 }
            var rng = SplitMix64(seed: 5)
            // Fixed-batch exports take only their batch (Hutch itself treats the batch as symbolic).
            let inputName = graph.values[graph.input.index].name
            var n = 16
            if case .value(let fixed)? = proto.graph?.inputs.first(where: { $0.name == inputName })?.shape?.first { n = Int(fixed) }
            // token-id models take ids below their embedding table's row count
            let vocabulary = graph.nodes.first { $0.op == .embedding }.flatMap { $0.inputs[1] }.flatMap { graph.initializers[$0]?.shape.first }
            let x = Tensor<Float>(shape: [n] + example, data: (0..<(n * example.reduce(1, *))).map { _ in
                vocabulary.map { Float(rng.next() % UInt64($0)) } ?? Float(rng.normal())
            })
            let widths = Array(repeating: LayerWidths(weightBits: 4, activationBits: 8), count: graph.quantizableLayers.count)
            let model = try ModelQuantizer(graph: graph, widths: widths).quantize(calibration: x)
            let qdq = try QDQExporter.export(model, original: proto, source: url.lastPathComponent)
            // one DequantizeLinear per weight (a weight several layers read is written once) and per activation
            XCTAssertEqual(qdq.graph?.nodes.filter { $0.opType == "DequantizeLinear" }.count,
                           Set(model.layers.map(\.weightName)).count + model.inputs.count, url.lastPathComponent)
            if let outDirectory {
                let stem = url.deletingPathExtension().lastPathComponent
                try Data(qdq.encoded()).write(to: outDirectory.appendingPathComponent(stem + "_w4a8.onnx"))
                let logits = try Executor<Float>(graph: model.fakeQuantizedGraph()).logits(x)
                try NumPyArchive.writeNPY(NumPyArray(shape: logits.shape, float32: logits.data),
                                          to: outDirectory.appendingPathComponent(stem + "_w4a8.npy"))
                let inputs = graph.inputHoldsTokenIDs ? NumPyArray(shape: x.shape, integers: x.data.map { Int64($0) })
                                                      : NumPyArray(shape: x.shape, float32: x.data)
                try NumPyArchive.writeNPZ([(name: "x", array: inputs),
                                           (name: "y", array: NumPyArray(shape: [n], integers: Array(repeating: 0, count: n)))],
                                          to: outDirectory.appendingPathComponent(stem + "_x.npz"))
            }
            exported += 1
        }
        XCTAssertGreaterThanOrEqual(exported, 12)
    }
}
