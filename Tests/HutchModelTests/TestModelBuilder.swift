import HutchModel

/// Builds ONNX ModelProto bytes from a short description, by onnx.proto field numbers.
struct TestTensor {
    enum Payload {
        case floats([Float], raw: Bool)
        case int64s([Int64], raw: Bool)
        case doubles([Double])
        case external
    }
    var name: String
    var dims: [Int64]
    var payload: Payload

    static func floats(_ name: String, _ dims: [Int64], _ values: [Float], raw: Bool = true) -> TestTensor {
        TestTensor(name: name, dims: dims, payload: .floats(values, raw: raw))
    }
    static func int64s(_ name: String, _ dims: [Int64], _ values: [Int64], raw: Bool = true) -> TestTensor {
        TestTensor(name: name, dims: dims, payload: .int64s(values, raw: raw))
    }

    func encode(into writer: inout ProtobufWriter) {
        writer.packedInt64s(1, dims)
        writer.string(8, name)
        switch payload {
        case .floats(let values, let raw):
            writer.int(2, 1)
            if raw { writer.data(9, rawBytes(values)) } else { writer.packedFloats(4, values) }
        case .int64s(let values, let raw):
            writer.int(2, 7)
            if raw { writer.data(9, rawBytes(values)) } else { for value in values { writer.int(7, value) } }  // unpacked
        case .doubles(let values):
            writer.int(2, 11)
            for value in values { writer.double(10, value) }
        case .external:
            writer.int(2, 1)
            writer.message(13) { entry in entry.string(1, "location"); entry.string(2, "weights.bin") }
            writer.int(14, 1)
        }
    }
}

enum TestAttribute {
    case int(String, Int64)
    case ints(String, [Int64])
    case float(String, Float)
    case string(String, String)
    case tensor(String, TestTensor)

    func encode(into writer: inout ProtobufWriter) {
        switch self {
        case .int(let name, let value): writer.string(1, name); writer.int(20, 2); writer.int(3, value)
        case .ints(let name, let values): writer.string(1, name); writer.int(20, 7); writer.packedInt64s(8, values)
        case .float(let name, let value): writer.string(1, name); writer.int(20, 1); writer.float(2, value)
        case .string(let name, let value): writer.string(1, name); writer.int(20, 3); writer.string(4, value)
        case .tensor(let name, let tensor): writer.string(1, name); writer.int(20, 4); writer.message(5) { tensor.encode(into: &$0) }
        }
    }
}

struct TestNode {
    var op: String
    var name: String
    var inputs: [String]
    var outputs: [String]
    var attributes: [TestAttribute] = []
    var domain: String = ""

    init(_ op: String, _ name: String, _ inputs: [String], _ outputs: [String], _ attributes: [TestAttribute] = [], domain: String = "") {
        self.op = op
        self.name = name
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
        self.domain = domain
    }
}

/// A whole model: one float input with `inputShape` (nil = symbolic "N"), one output.
func makeModel(nodes: [TestNode], initializers: [TestTensor], input: String = "x", inputShape: [Int64?],
               outputs: [String] = ["y"], extraInputs: [String] = [], opset: Int64 = 13) -> [UInt8] {
    var writer = ProtobufWriter()
    writer.int(1, 8)
    writer.string(2, "hutch-tests")
    writer.message(8) { $0.string(1, ""); $0.int(2, opset) }
    writer.message(7) { graph in
        for node in nodes {
            graph.message(1) { n in
                for input in node.inputs { n.string(1, input) }
                for output in node.outputs { n.string(2, output) }
                n.string(3, node.name)
                n.string(4, node.op)
                for attribute in node.attributes { n.message(5) { attribute.encode(into: &$0) } }
                if !node.domain.isEmpty { n.string(7, node.domain) }
            }
        }
        graph.string(2, "test")
        for tensor in initializers { graph.message(5) { tensor.encode(into: &$0) } }
        for name in [input] + extraInputs {
            graph.message(11) { info in
                info.string(1, name)
                info.message(2) { type in
                    type.message(1) { tensorType in
                        tensorType.int(1, 1)
                        tensorType.message(2) { shape in
                            for dim in inputShape {
                                shape.message(1) { d in
                                    if let dim { d.int(1, dim) } else { d.string(2, "N") }
                                }
                            }
                        }
                    }
                }
            }
        }
        for output in outputs { graph.message(12) { $0.string(1, output) } }
    }
    return writer.bytes
}
