/// Typed access to node attributes with ONNX defaults.
extension ONNXNodeProto {
    func int(_ name: String, default value: Int64) -> Int64 {
        attribute(name)?.i ?? value
    }

    func float(_ name: String, default value: Float) -> Float {
        attribute(name)?.f ?? value
    }

    func ints(_ name: String) -> [Int64]? {
        guard let attribute = attribute(name) else { return nil }
        return attribute.ints
    }

    func string(_ name: String) -> String? {
        guard let bytes = attribute(name)?.s else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}
