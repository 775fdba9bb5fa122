import Foundation
import HutchModel
import HutchQuantize

/// What a quantize task needs besides its layer index: the model (shared path) and the plan's
/// weight widths with the quantizer settings. Sent as JSON (sorted keys) in the TASK body.
public struct QuantizeWorkSpec: Codable, Sendable, Hashable {
    public var modelPath: String
    /// Weight bits per quantizable layer, canonical order (the broadcast plan's widths).
    public var weightBits: [Int]
    public var scheme: QuantizationScheme
    /// SHA-256 ("sha256:…") of the model file: the blob to fetch without a shared filesystem.
    public var modelDigest: String?

    public init(modelPath: String, weightBits: [Int], scheme: QuantizationScheme = .symmetric, modelDigest: String? = nil) {
        self.modelPath = modelPath; self.weightBits = weightBits; self.scheme = scheme; self.modelDigest = modelDigest
    }

    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? [UInt8](encoder.encode(self))) ?? []
    }

    /// The layer's quantization task on `graph` (min-max ranges, per-channel, as `hutch quantize`).
    public func task(layer: Int, graph: Graph) throws -> LayerQuantizationTask {
        let quantizer = try ModelQuantizer(graph: graph, widths: weightBits.map { LayerWidths(weightBits: $0) }, scheme: scheme)
        let tasks = try quantizer.tasks()
        guard tasks.indices.contains(layer) else {
            throw BodyError("quantize task for layer \(layer), but the model has \(tasks.count) quantizable layers")
        }
        return tasks[layer]
    }
}

/// What a quantization-error task needs besides its layer index (TASK body as for quantize).
public struct QuantizationErrorWorkSpec: Codable, Sendable, Hashable {
    public var modelPath: String
    public var modelDigest: String?
    /// Widths, ascending; the RESULT holds one squared error per width in this order.
    public var bits: [Int]

    public init(modelPath: String, modelDigest: String? = nil, bits: [Int]) {
        self.modelPath = modelPath; self.modelDigest = modelDigest; self.bits = bits
    }

    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? [UInt8](encoder.encode(self))) ?? []
    }
}

/// Quantize TASK body: u8 format (1) · u32 layer · u32 n · n bytes of QuantizeWorkSpec JSON.
/// Quantize RESULT body: the layer's weight as a packed weight file (HUTCHQW, one layer named
/// by its weight); RESULT values are empty.
public enum QuantizeBodies {
    public static func taskBody(layer: Int, spec: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [1]
        for v in [UInt32(clamping: layer), UInt32(spec.count)] { for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
        return out + spec
    }

    public static func decodeTask(_ body: [UInt8]) throws(BodyError) -> (layer: Int, spec: [UInt8]) {
        var r = SensitivityBodies.Reader(bytes: body)
        guard r.remaining >= 1, body[0] == 1 else { throw BodyError("quantize task body: format is not 1") }
        r.offset = 1
        let layer = Int(try r.u32()), n = Int(try r.u32())
        guard r.remaining == n else { throw BodyError("quantize task body: spec length \(n), \(r.remaining) bytes follow") }
        return (layer, Array(body[r.offset...]))
    }

    /// A quantization-error RESULT body: format 1 and the task's layer, echoed so that a result
    /// sent for another task is refused.
    public static func errorResultBody(layer: Int) -> [UInt8] {
        [1] + (0..<4).map { UInt8(truncatingIfNeeded: UInt32(clamping: layer) >> (8 * $0)) }
    }

    public static func resultBody(_ layer: QuantizedLayer) throws -> [UInt8] {
        try PackedWeightFile.encode([PackedLayer(name: layer.weightName, weight: layer.weight)])
    }

    /// The quantized layer of a RESULT, checked against the layer the task was for.
    public static func decodeResult(_ body: [UInt8], layer: Int, graph: Graph) throws -> QuantizedLayer {
        let layers = graph.quantizableLayers
        guard layers.indices.contains(layer) else { throw BodyError("quantize result for layer \(layer) outside the model") }
        let packed = try PackedWeightFile.decode(body, file: "RESULT body")
        guard packed.count == 1, packed[0].name == layers[layer].weightName else {
            throw BodyError("quantize result for layer \(layer) holds \(packed.map(\.name)), expected '\(layers[layer].weightName)'")
        }
        return QuantizedLayer(index: layer, node: layers[layer].nodeName, weightName: layers[layer].weightName, weight: packed[0].weight)
    }
}
