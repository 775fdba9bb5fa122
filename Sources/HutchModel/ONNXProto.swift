/// The parts of onnx.proto that Hutch reads, as plain values. Field numbers are in
/// `ONNXProto+Decoding.swift`; fields Hutch does not use are skipped when decoding.
public struct ONNXModelProto: Sendable {
    public init() {}
    public var irVersion: Int64 = 0
    public var producerName: String = ""
    public var opsetImports: [ONNXOperatorSetID] = []
    public var graph: ONNXGraphProto?

    /// The opset version of the default ("" or "ai.onnx") domain, if imported.
    public var defaultOpset: Int64? {
        opsetImports.first { $0.domain.isEmpty || $0.domain == "ai.onnx" }?.version
    }
}

public struct ONNXOperatorSetID: Sendable, Equatable {
    public init() {}
    public var domain: String = ""
    public var version: Int64 = 0
}

public struct ONNXGraphProto: Sendable {
    public init() {}
    public var name: String = ""
    public var nodes: [ONNXNodeProto] = []
    public var initializers: [ONNXTensorProto] = []
    public var inputs: [ONNXValueInfoProto] = []
    public var outputs: [ONNXValueInfoProto] = []
    public var valueInfo: [ONNXValueInfoProto] = []

    /// Initializers and the tensors of node attributes (Constant values), in file order.
    public var allTensors: [ONNXTensorProto] { initializers + nodes.flatMap { $0.attributes.compactMap(\.t) } }
}

public struct ONNXNodeProto: Sendable {
    public init() {}
    public var inputs: [String] = []
    public var outputs: [String] = []
    public var name: String = ""
    public var opType: String = ""
    public var domain: String = ""
    public var attributes: [ONNXAttributeProto] = []

    public func attribute(_ name: String) -> ONNXAttributeProto? {
        attributes.first { $0.name == name }
    }
}

public struct ONNXAttributeProto: Sendable {
    public init() {}
    /// AttributeProto.AttributeType values used here.
    public enum Kind: Int32, Sendable {
        case undefined = 0, float = 1, int = 2, string = 3, tensor = 4, graph = 5
        case floats = 6, ints = 7, strings = 8, tensors = 9, graphs = 10
    }

    public var name: String = ""
    public var type: Int32 = 0
    public var f: Float?
    public var i: Int64?
    public var s: [UInt8]?
    public var t: ONNXTensorProto?
    public var floats: [Float] = []
    public var ints: [Int64] = []
}

public struct ONNXTensorProto: Sendable {
    public init() {}
    /// TensorProto.DataType values.
    public enum DataType: Int32, Sendable, CaseIterable {
        case undefined = 0, float = 1, uint8 = 2, int8 = 3, uint16 = 4, int16 = 5, int32 = 6, int64 = 7
        case string = 8, bool = 9, float16 = 10, double = 11, uint32 = 12, uint64 = 13
        case complex64 = 14, complex128 = 15, bfloat16 = 16

        public var name: String { "\(self)" }
    }

    public var dims: [Int64] = []
    public var dataType: Int32 = 0
    public var floatData: [Float] = []
    public var int32Data: [Int32] = []
    public var int64Data: [Int64] = []
    public var doubleData: [Double] = []
    public var name: String = ""
    /// raw_data where the decoded model holds it (a mapped file is not copied), or set by a writer.
    public var rawSlice: ByteSlice?
    /// raw_data as an array (a copy; setting it copies into a storage of its own).
    public var rawData: [UInt8]? {
        get { rawSlice.map { [UInt8]($0.buffer) } }
        set { rawSlice = newValue.map { ByteSlice($0) } }
    }
    /// TensorProto.DataLocation: 0 DEFAULT, 1 EXTERNAL.
    public var dataLocation: Int32 = 0
    public var externalData: [(key: String, value: String)] = []

    public var usesExternalData: Bool { dataLocation == 1 || !externalData.isEmpty }
}

public struct ONNXValueInfoProto: Sendable {
    public init() {}
    public enum Dimension: Sendable, Equatable {
        case value(Int64)
        case param(String)
        case unknown
    }

    public var name: String = ""
    /// TypeProto.Tensor.elem_type (a TensorProto.DataType), nil when the type is not a tensor.
    public var elemType: Int32?
    /// nil when the shape is absent (unknown rank).
    public var shape: [Dimension]?
}
