import Foundation
import HutchModel
import XCTest

/// x [N, inputs] → Gemm hidden×inputs → Relu → Gemm classes×hidden: a piecewise-linear model with
/// deterministic pseudo-random weights, written as ONNX with `examples` labelled rows of data.
/// `tiedRepeats` > 0 (hidden == inputs) reads fc1's weight and bias again that many times, each
/// a Gemm "fc1_again_K" and a Relu after the first: one weight read by several layers, as ALBERT's.
enum GemmModelFiles {
    static func write(in directory: URL, name: String, inputs: Int, hidden: Int, classes: Int,
                      examples: Int, tiedRepeats: Int = 0) throws -> (model: String, data: String) {
        precondition(tiedRepeats == 0 || hidden == inputs, "a repeated fc1 maps hidden to hidden")
        var state: UInt32 = 11
        func values(_ n: Int, scale: Float) -> [Float] {
            (0..<n).map { _ in state = state &* 1_664_525 &+ 1_013_904_223; return (Float(state >> 8) / Float(1 << 24) - 0.5) * scale }
        }
        func tensor(_ name: String, _ dims: [Int64], _ data: [Float]) -> ONNXTensorProto {
            var t = ONNXTensorProto()
            t.name = name
            t.dims = dims
            t.dataType = ONNXTensorProto.DataType.float.rawValue
            t.floatData = data
            return t
        }
        func gemm(_ name: String, _ inputs: [String], _ output: String) -> ONNXNodeProto {
            var node = ONNXNodeProto()
            node.name = name
            node.opType = "Gemm"
            node.inputs = inputs
            node.outputs = [output]
            var transB = ONNXAttributeProto()
            transB.name = "transB"
            transB.type = ONNXAttributeProto.Kind.int.rawValue
            transB.i = 1
            node.attributes = [transB]
            return node
        }
        func info(_ name: String, _ dims: [ONNXValueInfoProto.Dimension]) -> ONNXValueInfoProto {
            var v = ONNXValueInfoProto()
            v.name = name
            v.elemType = ONNXTensorProto.DataType.float.rawValue
            v.shape = dims
            return v
        }
        var relu = ONNXNodeProto()
        relu.name = "relu"
        relu.opType = "Relu"
        relu.inputs = ["h"]
        relu.outputs = ["r"]
        var graph = ONNXGraphProto()
        graph.name = name
        graph.initializers = [tensor("w1", [Int64(hidden), Int64(inputs)], values(hidden * inputs, scale: 0.06)),
                              tensor("b1", [Int64(hidden)], values(hidden, scale: 0.1)),
                              tensor("w2", [Int64(classes), Int64(hidden)], values(classes * hidden, scale: 0.06)),
                              tensor("b2", [Int64(classes)], values(classes, scale: 0.1))]
        graph.nodes = [gemm("fc1", ["x", "w1", "b1"], "h"), relu]
        var last = "r"
        for k in 0..<tiedRepeats {
            var again = relu
            again.name = "relu_again_\(k)"
            again.inputs = ["h_again_\(k)"]
            again.outputs = ["r_again_\(k)"]
            graph.nodes += [gemm("fc1_again_\(k)", [last, "w1", "b1"], "h_again_\(k)"), again]
            last = "r_again_\(k)"
        }
        graph.nodes.append(gemm("fc2", [last, "w2", "b2"], "logits"))
        graph.inputs = [info("x", [.param("N"), .value(Int64(inputs))])]
        graph.outputs = [info("logits", [.param("N"), .value(Int64(classes))])]
        var model = ONNXModelProto()
        model.irVersion = 8
        var opset = ONNXOperatorSetID()
        opset.version = 17
        model.opsetImports = [opset]
        model.graph = graph
        let modelPath = directory.appendingPathComponent("\(name).onnx").path
        try Data(model.encoded()).write(to: URL(fileURLWithPath: modelPath))
        let labels = [Int64](0..<Int64(examples)).map { $0 % Int64(classes) }
        let x = NumPyArray(shape: [examples, inputs], float32: values(examples * inputs, scale: 2))
        let y = try XCTUnwrap(NumPyArray(dtype: .int64, shape: [examples],
                                         bytes: labels.flatMap { v in (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }))
        let dataPath = directory.appendingPathComponent("\(name).npz").path
        try Data(NumPyArchive.npzData([("x", x), ("y", y)])).write(to: URL(fileURLWithPath: dataPath))
        return (modelPath, dataPath)
    }
}
