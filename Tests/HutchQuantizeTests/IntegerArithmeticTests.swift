import HutchModel
import HutchTensor
import XCTest
@testable import HutchQuantize

/// The integer network against integer arithmetic worked out by hand on a tiny network:
/// input [N, 1, 2, 2] -> Conv (2 channels, 2x2) -> Relu -> Flatten -> Gemm (2 -> 2). Scales are
/// powers of two or simple fractions so every intermediate number below is exact.
final class IntegerArithmeticTests: XCTestCase {
    /// input 4-bit S = 0.5, z = 2; hidden 8-bit S = 0.75, z = 0; logits 8-bit S = 0.125, z = 128.
    static func tinyModel() throws -> QuantizedModel {
        let values = ["input", "conv.w", "conv.b", "conv", "relu", "flat", "fc.w", "fc.b", "logits"].map { Value(name: $0) }
        let id = { (name: String) in ValueID(values.firstIndex { $0.name == name }!) }
        let conv = ConvAttributes(kernelShape: [2, 2], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1)
        let nodes = [
            Node(name: "conv", op: .conv(conv), inputs: [id("input"), id("conv.w"), id("conv.b")], outputs: [id("conv")]),
            Node(name: "relu", op: .relu, inputs: [id("conv")], outputs: [id("relu")]),
            Node(name: "flatten", op: .flatten(axis: 1), inputs: [id("relu")], outputs: [id("flat")]),
            Node(name: "fc", op: .gemm(GemmAttributes(transB: true)), inputs: [id("flat"), id("fc.w"), id("fc.b")], outputs: [id("logits")]),
        ]
        let convCodes: [Int32] = [1, -2, 3, 0, -7, 7, 0, 1]
        let fcCodes: [Int32] = [10, -20, 5, 3]
        let graph = Graph(values: values, nodes: nodes, input: id("input"), output: id("logits"), initializers: [
            id("conv.w"): Tensor(shape: [2, 1, 2, 2], data: convCodes.map(Float.init)),
            id("conv.b"): Tensor(shape: [2], data: [0.3, -1.0]),
            id("fc.w"): Tensor(shape: [2, 2], data: fcCodes.map(Float.init)),
            id("fc.b"): Tensor(shape: [2], data: [0.05, -0.1]),
        ])
        let w4 = try QuantizationGrid(scheme: .symmetric, bits: 4), w8 = try QuantizationGrid(scheme: .symmetric, bits: 8)
        let layers = [
            QuantizedLayer(index: 0, node: "conv", weightName: "conv.w", weight: QuantizedTensor(
                shape: [2, 1, 2, 2], grid: w4, axis: 0, parameters: [.init(scale: 0.25, zeroPoint: 0), .init(scale: 0.125, zeroPoint: 0)], codes: convCodes)),
            QuantizedLayer(index: 1, node: "fc", weightName: "fc.w", weight: QuantizedTensor(
                shape: [2, 2], grid: w8, axis: 0, parameters: [.init(scale: 0x1p-7, zeroPoint: 0), .init(scale: 0x1p-6, zeroPoint: 0)], codes: fcCodes)),
        ]
        func activation(_ name: String, bits: Int, scale: Float, zero: Int32) throws -> ActivationQuantization {
            ActivationQuantization(value: id(name), name: name, bits: bits, range: ActivationRange(min: 0, max: 0),
                                   grid: try QuantizationGrid(scheme: .asymmetric, bits: bits), parameters: .init(scale: scale, zeroPoint: zero))
        }
        return QuantizedModel(graph: graph, layers: layers,
                              inputs: [try activation("input", bits: 4, scale: 0.5, zero: 2), try activation("flat", bits: 8, scale: 0.75, zero: 0)],
                              outputs: [0: try activation("conv", bits: 8, scale: 0.1, zero: 100), 1: try activation("logits", bits: 8, scale: 0.125, zero: 128)])
    }

    func testTinyNetworkMatchesHandComputedIntegers() throws {
        let model = try Self.tinyModel()
        let program = try IntegerProgram(model: model, exampleShape: [1, 2, 2])
        XCTAssertEqual(program.points.map(\.quantization.name), ["input", "flat", "logits"])
        // Example 0: x / 0.5 = [2, -1, 4.4, 0.52] -> round -> [2, -1, 4, 1] -> + 2 -> [4, 1, 6, 3].
        // Conv, centered x = [2, -1, 4, 1]; accumulator scales 0.5·0.25 = 1/8 and 0.5·0.125 = 1/16;
        //   bias 0.3 / (1/8) = 2.4 -> 2 and -1.0 / (1/16) = -16;
        //   acc0 = 2 + 2·1 + (-1)(-2) + 4·3 + 1·0 = 18;  acc1 = -16 + 2(-7) + (-1)7 + 0 + 1 = -36.
        // Relu -> [18, 0]; to the hidden codes M = (1/8)/0.75 = 1/6, (1/16)/0.75 = 1/12 -> [3, 0].
        // Gemm: accumulator scales 0.75·2^-7, 0.75·2^-6; bias 0.05·2^7/0.75 = 8.53 -> 9, -0.1·2^6/0.75 = -8.53 -> -9;
        //   acc = [9 + 3·10 + 0·(-20), -9 + 3·5 + 0·3] = [39, 6].
        // Logits M = [0.75·2^-7 / 0.125, 0.75·2^-6 / 0.125] = [3/64, 3/32]:
        //   39·3/64 = 1.83 -> 2 -> 130;  6·3/32 = 0.5625 -> 1 -> 129.
        // Example 1 puts the logits on exact ties, which round half up (also below zero):
        // x / 0.5 = [6, 0, 0, 0] -> codes [8, 2, 2, 2]; acc0 = 2 + 6·1 = 8, acc1 = -16 + 6(-7) = -58;
        // hidden 8/6 = 1.33 -> 1, 0; Gemm [9 + 10, -9 + 5] = [19, -4];
        // logits 19·3/64 = 0.89 -> 1 -> 129;  -4·3/32 = -0.375 -> 0 -> 128.
        let x = Tensor<Float>(shape: [2, 1, 2, 2], data: [1.0, -0.5, 2.2, 0.26, 3.0, 0, 0, 0])
        let run = try program.run(x, unrounded: true)
        XCTAssertEqual(run.codes[0].data, [4, 1, 6, 3, 8, 2, 2, 2])
        XCTAssertEqual(run.codes[1].data, [3, 0, 1, 0])
        XCTAssertEqual(run.logits.shape, [2, 2])
        XCTAssertEqual(run.logits.data, [130, 129, 129, 128])
        XCTAssertEqual(run.unrounded[2][0], 39.0 * 3 / 64 + 128, accuracy: 1e-9)
        XCTAssertEqual(run.unrounded[1][0], 3.0, accuracy: 1e-8)
    }

    func testRequantizationRoundsHalfUpAndClamps() throws {
        let target = ActivationQuantization(value: ValueID(0), name: "t", bits: 4, range: ActivationRange(min: 0, max: 0),
                                            grid: try QuantizationGrid(scheme: .asymmetric, bits: 4), parameters: .init(scale: 2, zeroPoint: 3))
        let requantize = try Requantizer(from: WideScales(scales: [1], inner: 1), to: target, node: "n")
        // M = 1/2: -3 -> -1.5 -> -1; -1 -> -0.5 -> 0; 1 -> 0.5 -> 1; 3 -> 1.5 -> 2; then + 3, clamp to [0, 15].
        let codes = requantize(IntegerTensor(shape: [1, 7], data: [-3, -1, 1, 3, -100, 100, 0]))
        XCTAssertEqual(codes.data, [2, 3, 4, 5, 0, 15, 3])
    }

    func testResidualAddKeepsTheCoarserScaleAndRescalesTheFiner() throws {
        let add = try ResidualAdd(WideScales(scales: [0.5, 0.25], inner: 1), WideScales(scales: [0.125, 0.25], inner: 1), node: "add")
        XCTAssertEqual(add.layout.scales, [0.5, 0.25])
        // channel 0: 7 + 9·(1/4) = 7 + 2.25 -> 9;  channel 1: equal scales, exact 5 + 6 = 11;
        // channel 0 again: -3 + (-2)(1/4) = -3 - 0.5 -> -3.5 rounds half up to -3 (-0.5 -> 0).
        let sum = try add(IntegerTensor(shape: [2, 2], data: [7, 5, -3, 0]), IntegerTensor(shape: [2, 2], data: [9, 6, -2, 0]), node: "add")
        XCTAssertEqual(sum.data, [9, 11, -3, 0])
    }

    func testOverflowingAccumulatorIsAnErrorNotAWrap() {
        XCTAssertThrowsError(try IntegerTensor(shape: [1], sums: [Int64(Int32.max) + 1], node: "big")) { error in
            XCTAssertTrue("\(error)".contains("'big'") && "\(error)".contains("int32"), "\(error)")
        }
    }
}
