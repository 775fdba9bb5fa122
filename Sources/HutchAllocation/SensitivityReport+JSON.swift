import Foundation

/// Reading and writing sensitivity.json, with every value checked so later stages can trust it.
extension SensitivityReport {
    /// Decodes and validates; `source` names the file in error messages.
    public static func decode(_ data: Data, source: String = "sensitivity.json") throws -> SensitivityReport {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        // JSON has no NaN; accept the strings so that a NaN trace gets its own clear message.
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        let report: SensitivityReport
        do {
            report = try decoder.decode(SensitivityReport.self, from: data)
        } catch let error as DecodingError {
            throw AllocationError.invalidSensitivity("\(source): \(describeDecoding(error))")
        }
        try report.validate(source: source)
        return report
    }

    /// Pretty-printed JSON with sorted keys (stable bytes for digests).
    public func encoded() throws -> Data {
        try JSONEncoder.hutchFile().encode(self)
    }

    public func validate(source: String = "sensitivity.json") throws {
        func fail(_ message: String) -> AllocationError { .invalidSensitivity("\(source): \(message)") }
        guard format == Self.formatName else {
            throw fail("field 'format' is '\(format)', expected '\(Self.formatName)'; is this a sensitivity file from `hutch trace`?")
        }
        guard version == Self.currentVersion else {
            throw fail("version \(version) is not supported (this hutch reads version \(Self.currentVersion))")
        }
        guard !layers.isEmpty else { throw fail("'layers' is empty; the model has no quantizable layer") }
        guard job.samples >= 0 else { throw fail("job.samples is negative") }
        if let quantization {
            for bits in quantization.bits where !(1 ... 16).contains(bits) {
                throw fail("quantization.bits contains \(bits); bit widths must be in 1...16")
            }
        }
        var seen: [String: Int] = [:]
        for (position, layer) in layers.enumerated() {
            let at = "layers[\(position)] ('\(layer.node)')"
            guard layer.index == position else {
                throw fail("layers[\(position)].index is \(layer.index); layers must be listed in canonical order with index = position")
            }
            guard !layer.node.isEmpty else { throw fail("layers[\(position)].node is empty") }
            if let other = seen[layer.node] {
                throw fail("layers[\(position)] and layers[\(other)] have the same node name '\(layer.node)'")
            }
            seen[layer.node] = position
            guard layer.parameters > 0 else { throw fail("\(at).parameters must be positive, got \(layer.parameters)") }
            guard layer.shape.allSatisfy({ $0 > 0 }), layer.shape.reduce(1, *) == layer.parameters else {
                throw fail("\(at).shape \(layer.shape) does not hold \(layer.parameters) parameters")
            }
            if let macs = layer.macs, macs < 0 { throw fail("\(at).macs is negative") }
            guard layer.trace.isFinite else { throw fail("\(at).trace is \(layer.trace); the sensitivity run diverged, re-run `hutch trace`") }
            guard layer.trace >= 0 else {
                throw fail("\(at).trace is negative (\(layer.trace)); a Hessian trace estimate below zero needs more probes (--tol / --max-probes) or --method exact")
            }
            guard layer.tracePerParameter.isFinite, layer.tracePerParameter >= 0 else {
                throw fail("\(at).trace_per_parameter is \(layer.tracePerParameter); expected a finite value ≥ 0")
            }
            if let a = layer.activation {
                let errors = a.quantizationError.values
                guard a.trace.isFinite, a.standardError.isFinite, a.standardError >= 0, a.probes >= 2 || (a.probes == 0 && a.standardError == 0), a.elements > 0,
                      errors.allSatisfy({ $0.isFinite && $0 >= 0 }), a.quantizationError.keys.allSatisfy({ Int($0).map { (1...16).contains($0) } ?? false }) else {
                    throw fail("\(at).activation has a non-finite or out-of-range field (trace, standard_error, probes >= 2 or 0 for exact with standard_error 0, elements > 0, quantization_error by width 1-16)")
                }
            }
            if let increases = layer.measuredLossIncrease, !(increases.values.allSatisfy(\.isFinite)
                && increases.keys.allSatisfy({ Int($0).map { (1...16).contains($0) } ?? false })) {
                throw fail("\(at).measured_loss_increase needs finite values keyed by widths 1-16")
            }
            if let measured = layer.measuredTrace, !(measured.isFinite && measured < 0 && layer.trace == 0) {
                throw fail("\(at).measured_trace is \(measured); it is written only for a negative estimate, with trace 0")
            }
            if let se = layer.standardError, !(se.isFinite && se >= 0) {
                throw fail("\(at).standard_error is \(se); expected a finite value ≥ 0 or null")
            }
            if let probes = layer.probes, probes < 0 { throw fail("\(at).probes is negative") }
            if let eigen = layer.topEigenvalue, !eigen.isFinite {
                throw fail("\(at).top_eigenvalue is \(eigen); expected a finite number or null")
            }
            for (key, error) in layer.quantizationError ?? [:] {
                guard let bits = Int(key), (1 ... 16).contains(bits) else {
                    throw fail("\(at).quantization_error has key '\(key)'; keys are bit widths 1...16")
                }
                guard error.isFinite, error >= 0 else {
                    throw fail("\(at).quantization_error[\"\(key)\"] is \(error); expected a finite value ≥ 0")
                }
            }
        }
    }
}

/// One line from a DecodingError: the JSON path in snake_case and what was wrong there.
func describeDecoding(_ error: DecodingError) -> String {
    func path(_ keys: [CodingKey]) -> String {
        var text = ""
        for key in keys {
            if let index = key.intValue { text += "[\(index)]" } else {
                text += (text.isEmpty ? "" : ".") + snakeCase(key.stringValue)
            }
        }
        return text.isEmpty ? "top level" : text
    }
    switch error {
    case .keyNotFound(let key, let context):
        let parent = context.codingPath.isEmpty ? "the top-level object" : path(context.codingPath)
        return "missing field '\(snakeCase(key.stringValue))' in \(parent)"
    case .typeMismatch(let type, let context):
        return "field \(path(context.codingPath)) has the wrong type (expected \(typeName(type)))"
    case .valueNotFound(let type, let context):
        return "field \(path(context.codingPath)) is null (expected \(typeName(type)))"
    case .dataCorrupted(let context):
        if context.codingPath.isEmpty {
            let underlying = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return "not valid JSON" + (underlying.map { " (\($0))" } ?? "") + "; note that NaN/Infinity must be written as strings"
        }
        return "field \(path(context.codingPath)) is invalid: \(context.debugDescription)"
    @unknown default:
        return "cannot be decoded: \(error)"
    }
}

private func typeName(_ type: Any.Type) -> String {
    switch type {
    case is Double.Type, is Float.Type: return "a number"
    case is Int.Type, is UInt64.Type: return "an integer"
    case is String.Type: return "a string"
    case is Bool.Type: return "true or false"
    default:
        let name = "\(type)"
        return name.hasPrefix("Array") ? "an array" : "an object"
    }
}

func snakeCase(_ camel: String) -> String {
    var out = ""
    for character in camel {
        if character.isUppercase {
            out += "_" + character.lowercased()
        } else {
            out.append(character)
        }
    }
    return out
}
