import Foundation
import HutchAllocation
import HutchAutodiff
import HutchModel
import HutchQuantize
import HutchTensor

/// `hutch quantize`: quantizes a model to the widths of a plan and writes a QDQ ONNX model
/// (plus, on request, the packed weight file, the plan annotated with requantization scales,
/// and Hutch's own fake-quantized logits). Everything is computed before anything is written;
/// each file is written to a temporary name and renamed into place.
struct QuantizeCommand: Command {
    static let name = "quantize"
    static let summary = "quantize a model to a plan's widths and write a QDQ ONNX model"
    static let usage = """
        --model M.onnx --plan plan.json [--data D.npz | --weights-only] --out quantized.onnx \
        [--packed model.hutchq] [--plan-out annotated.json] [--logits logits.npy] \
        [--calibration minmax|percentile:P] [--scheme symmetric|asymmetric] [--range minmax|mse] \
        [--integer-check report.json]
        """
    static let flags: [Arguments.Flag] = [
        .option("model", "PATH", "the float ONNX model the plan was made for (required)"),
        .option("plan", "PATH", "plan.json from `hutch plan` (required)"),
        .option("data", "PATH", ".npz with x (and y for accuracy): calibrates activation ranges"),
        .toggle("weights-only", "quantize weights only; activations stay float (no --data needed)"),
        .option("out", "PATH", "where to write the QDQ ONNX model (required)"),
        .option("packed", "PATH", "also write the bit-packed weight file (Protocols/packed-weights.md)"),
        .option("plan-out", "PATH", "also write the plan with scales and dyadic requantization multipliers per layer"),
        .option("logits", "PATH", "also write Hutch's fake-quantized logits on --data as float32 .npy"),
        .option("calibration", "METHOD", "activation ranges: minmax (default) or percentile:P, e.g. percentile:99.99"),
        .option("scheme", "NAME", "weight codes: symmetric (default, HAWQ-V3) or asymmetric"),
        .option("range", "NAME", "weight ranges: minmax (default) or mse (MSE-optimal clipping per channel)"),
        .option("integer-check", "PATH", "also run the network in integers only (HAWQ-V3) on --data and write its comparison with the QDQ model"),
    ]

    static func run(_ arguments: Arguments) throws {
        let modelPath = try arguments.required("model")
        let planPath = try arguments.required("plan")
        let outPath = try arguments.required("out")
        let weightsOnly = arguments.has("weights-only")
        let dataPath = arguments.string("data")
        if !weightsOnly && dataPath == nil {
            throw CommandFailure(.usage, "activation ranges need calibration data: give --data D.npz, or --weights-only to keep activations float")
        }
        if arguments.has("logits") && dataPath == nil {
            throw CommandFailure(.usage, "--logits needs --data (the logits are computed on its inputs)")
        }
        if arguments.has("integer-check") && (dataPath == nil || weightsOnly) {
            throw CommandFailure(.usage, "--integer-check needs --data and quantized activations (not --weights-only)")
        }
        let method = try calibrationMethod(arguments.string("calibration"))
        let scheme = try arguments.string("scheme").map { name -> QuantizationScheme in
            guard let scheme = QuantizationScheme(rawValue: name) else {
                throw CommandFailure(.usage, "--scheme must be symmetric or asymmetric, got '\(name)'")
            }
            return scheme
        } ?? .symmetric
        let range: RangeMethod
        switch arguments.string("range") ?? "minmax" {
        case "minmax": range = .minMax
        case "mse": range = .mse
        case let other: throw CommandFailure(.usage, "--range must be minmax or mse, got '\(other)'")
        }

        let modelBytes = [UInt8](try readFile(modelPath, what: "model"))
        let proto = try ONNXLoader.decode(bytes: modelBytes, source: modelPath)
        let graph = try ONNXLoader.load(model: proto, source: modelPath)
        let planData = try readFile(planPath, what: "plan")
        let plan = try PlanWidths.decode(planData, source: planPath)
        try plan.check(modelDigest: Digest.sha256(modelBytes), modelPath: modelPath, source: planPath)
        let widths = try plan.widths(for: graph, source: planPath)

        var dataset: Dataset?
        if let dataPath {
            let loaded = try Dataset(npz: URL(fileURLWithPath: dataPath))
            try loaded.validate(against: graph, modelName: modelPath)
            dataset = loaded
        }

        let quantizer = try ModelQuantizer(graph: graph, widths: widths, scheme: scheme, range: range)
        let model = try quantizer.quantize(calibration: weightsOnly ? nil : dataset?.inputs, method: method)
        // tensors the export keeps (biases, norms) leave the external data file for the output
        let exported = try ExternalDataFiles(modelPath: modelPath).inlined(try QDQExporter.export(model, original: proto, source: modelPath))

        var outputs: [(path: String, data: Data)] = [(outPath, Data(exported.encoded()))]
        if let packedPath = arguments.string("packed") {
            let layers = model.layers.map { PackedLayer(name: $0.weightName, weight: $0.weight) }
            outputs.append((packedPath, Data(try PackedWeightFile.encode(layers, file: packedPath))))
        }
        if let planOut = arguments.string("plan-out") {
            outputs.append((planOut, try PlanWidths.annotated(planData, model: model, source: planPath)))
        }
        if let dataset {
            let fake = try Executor<Float>(graph: model.fakeQuantizedGraph())
            let float = try Executor<Float>(graph: graph)
            let quantizedLogits = try fake.logits(dataset.inputs)
            let floatLogits = try float.logits(dataset.inputs)
            log("on \(dataset.count) examples of \(dataPath ?? ""): float accuracy \(percent(accuracy(floatLogits, dataset.labels))) "
                + "loss \(String(format: "%.5f", loss(floatLogits, dataset.labels))), fake-quantized accuracy "
                + "\(percent(accuracy(quantizedLogits, dataset.labels))) loss \(String(format: "%.5f", loss(quantizedLogits, dataset.labels)))")
            if let checkPath = arguments.string("integer-check") {
                let report = try IntegerCheck.run(model: model, inputs: dataset.inputs, labels: dataset.labels)
                log(report.summary)
                outputs.append((checkPath, try report.json()))
            }
            if let logitsPath = arguments.string("logits") {
                let array = NumPyArray(shape: quantizedLogits.shape, float32: quantizedLogits.data)
                outputs.append((logitsPath, Data(array.npyData())))
            }
        }
        try writeQuantizeOutputs(outputs)

        let bits = widths.map(\.weightBits)
        let activations = weightsOnly ? "float activations" : "\(model.inputs.count) quantized activations"
        print("quantized \(model.layers.count) layers (weight bits \(bits.map(String.init).joined(separator: ","))), \(activations), opset \(exported.defaultOpset ?? 0) → \(outPath)")
    }

    static func calibrationMethod(_ text: String?) throws -> CalibrationMethod {
        guard let text, text != "minmax" else { return .minMax }
        if text.hasPrefix("percentile:"), let p = Double(text.dropFirst("percentile:".count)), p > 50, p <= 100 {
            return .percentile(p)
        }
        throw CommandFailure(.usage, "--calibration must be minmax or percentile:P with 50 < P <= 100, got '\(text)'")
    }

    static func accuracy(_ logits: Tensor<Float>, _ labels: [Int]) -> Double {
        let classes = logits.shape[1]
        var correct = 0
        for (i, label) in labels.enumerated() {
            let row = logits.data[(i * classes)..<((i + 1) * classes)]
            if let best = row.indices.max(by: { row[$0] < row[$1] }), best - i * classes == label { correct += 1 }
        }
        return Double(correct) / Double(max(1, labels.count))
    }

    /// Mean softmax cross-entropy (DESIGN.md's loss), in Double.
    static func loss(_ logits: Tensor<Float>, _ labels: [Int]) -> Double {
        let classes = logits.shape[1]
        var total = 0.0
        for (i, label) in labels.enumerated() {
            let row = (0..<classes).map { Double(logits.data[i * classes + $0]) }
            let top = row.max() ?? 0
            total += top + Foundation.log(row.reduce(0) { $0 + exp($1 - top) }) - row[label]
        }
        return total / Double(max(1, labels.count))
    }

    static func percent(_ x: Double) -> String { String(format: "%.2f %%", x * 100) }
}

/// Every output goes to a temporary file in its destination directory first; only when all are
/// written are they renamed into place, so a failure leaves no output (and no temporary) behind.
func writeQuantizeOutputs(_ outputs: [(path: String, data: Data)]) throws {
    var staged: [(temporary: URL, path: String)] = []
    func discard() { for item in staged { try? FileManager.default.removeItem(at: item.temporary) } }
    for output in outputs {
        let url = URL(fileURLWithPath: output.path)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)")
        do {
            try output.data.write(to: temporary)
        } catch {
            discard()
            throw CommandFailure(.io, "cannot write '\(output.path)': \((error as NSError).localizedDescription)")
        }
        staged.append((temporary, output.path))
    }
    for item in staged {
        guard rename(item.temporary.path, item.path) == 0 else {
            let reason = String(cString: strerror(errno))
            discard()
            throw CommandFailure(.io, "cannot move the finished file into place at '\(item.path)': \(reason)")
        }
    }
}
