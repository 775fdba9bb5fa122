import Foundation
import HutchAllocation
import HutchModel
import HutchQuantize

/// The parts of plan.json that `hutch quantize` reads, checked against the model.
struct PlanWidths {
    var plan: Plan

    static func decode(_ data: Data, source: String) throws -> PlanWidths {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let plan: Plan
        do {
            plan = try decoder.decode(Plan.self, from: data)
        } catch {
            throw CommandFailure(.invalidSensitivity, "\(source): not a valid plan.json (\(describeDecoding(error))); make it with `hutch plan`")
        }
        guard plan.format == Plan.formatName else {
            throw CommandFailure(.invalidSensitivity, "\(source): format is '\(plan.format)', expected '\(Plan.formatName)'")
        }
        return PlanWidths(plan: plan)
    }

    func check(modelDigest: String, modelPath: String, source: String) throws {
        guard plan.modelDigest == modelDigest else {
            throw CommandFailure(.invalidSensitivity, "\(source): the plan was made for model \(plan.modelDigest) but \(modelPath) is \(modelDigest); plan this model with `hutch trace` and `hutch plan`")
        }
    }

    /// Widths in canonical layer order; every quantizable layer must be in the plan (by weight or
    /// node name), every plan entry must be a layer of the model, widths in 1...16.
    func widths(for graph: Graph, source: String) throws -> [LayerWidths] {
        let layers = graph.quantizableLayers
        var result: [LayerWidths] = []
        var missing: [String] = []
        for layer in layers {
            guard let entry = plan.layers.first(where: { $0.weight == layer.weightName })
                    ?? plan.layers.first(where: { $0.node == layer.nodeName }) else {
                missing.append(layer.nodeName)
                continue
            }
            for (what, bits) in [("weight_bits", entry.weightBits), ("activation_bits", entry.activationBits)] where !(1...16).contains(bits) {
                throw CommandFailure(.invalidSensitivity, "\(source): layer '\(entry.node)' has \(what) \(bits), outside 1...16; fix the plan")
            }
            result.append(LayerWidths(weightBits: entry.weightBits, activationBits: entry.activationBits))
        }
        guard missing.isEmpty else {
            throw CommandFailure(.invalidSensitivity, "\(source): no width for layers \(missing.joined(separator: ", ")) of the model; make the plan from this model's sensitivity.json")
        }
        let known = Set(layers.map(\.weightName)).union(layers.map(\.nodeName))
        if let stray = plan.layers.first(where: { !known.contains($0.weight) && !known.contains($0.node) }) {
            throw CommandFailure(.invalidSensitivity, "\(source): plan layer '\(stray.node)' (weight '\(stray.weight)') is not a quantizable layer of the model")
        }
        return result
    }

    /// The plan's own JSON with each layer entry extended by its quantization (Protocols/README.md,
    /// "Quantized outputs"): unknown fields are kept, so later stages can add theirs.
    static func annotated(_ data: Data, model: QuantizedModel, source: String) throws -> Data {
        guard var root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              var entries = root["layers"] as? [[String: Any]] else {
            throw CommandFailure(.invalidSensitivity, "\(source): plan.json has no layers array")
        }
        let requant = Dictionary(model.requantization().map { ($0.weight, $0) }, uniquingKeysWith: { a, _ in a })
        let byWeight = Dictionary(model.layers.map { ($0.weightName, $0) }, uniquingKeysWith: { a, _ in a })
        for (i, entry) in entries.enumerated() {
            guard let weight = entry["weight"] as? String, let layer = byWeight[weight] else { continue }
            var extended = entry
            let q = layer.weight
            extended["weight_scheme"] = q.grid.scheme.rawValue
            extended["weight_axis"] = q.axis.map { $0 as Any } ?? NSNull()
            extended["weight_scales"] = q.scales.map(Double.init)
            extended["weight_zero_points"] = q.zeroPoints.map(Int.init)
            if let r = requant[weight] {
                extended["input_scale"] = Double(r.inputScale)
                extended["input_zero_point"] = Int(r.inputZeroPoint)
                extended["output_scale"] = Double(r.outputScale)
                extended["output_zero_point"] = Int(r.outputZeroPoint)
                extended["requantization"] = zip(r.multipliers, r.dyadic).map { m, d -> [String: Any] in
                    var item: [String: Any] = ["multiplier": m]
                    if let d { item["numerator"] = Int(d.numerator); item["shift"] = d.shift }
                    return item
                }
            }
            entries[i] = extended
        }
        root["layers"] = entries
        return try JSONSerialization.data(withJSONObject: root, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }

    private static func describeDecoding(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "missing field '\((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))'"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "wrong type at '\(context.codingPath.map(\.stringValue).joined(separator: "."))'"
        case DecodingError.dataCorrupted(let context):
            return context.debugDescription
        default:
            return "\(error)"
        }
    }
}
