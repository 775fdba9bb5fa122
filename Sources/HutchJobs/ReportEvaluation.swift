import Foundation
import HutchAllocation
import HutchAutodiff
import HutchClusterCore
import HutchModel
import HutchQuantize
import HutchReport
import HutchTensor

/// Accuracy, loss and weight size for the report: the float model, every layer at 8 and at 4
/// bits, and the plan, each quantized as `hutch quantize --data` does (symmetric per-channel
/// min-max weights, activations calibrated min-max on the same data) and run with Hutch's
/// fake-quantized forward.
enum ReportEvaluation {
    /// Nil when there is nothing to measure on (no --data and not the embedded example).
    static func measure(_ files: ReportFiles, request: ReportJob.EvaluationRequest) throws -> Evaluation? {
        let wanted = files.sensitivity.job.modelDigest
        let example = try? ExampleFiles.directory()
        let exampleModel = example?.model
        // the model: --model, else the one run.json names, else the embedded example, whichever has the digest
        var modelPath: String?
        var modelBytes = ByteStorage(copying: [])
        if let given = request.model {
            modelBytes = try mapModel(given)
            guard Digest.sha256(modelBytes) == wanted else {
                throw CommandFailure(.invalidSensitivity, "\(files.path("sensitivity.json")) was measured on model \(wanted), not on \(given) (\(Digest.sha256(modelBytes))); pass the model the job ran on")
            }
            modelPath = given
        } else {
            for candidate in [files.run?.model, exampleModel].compactMap({ $0 }) {
                guard let bytes = try? mapModel(candidate), Digest.sha256(bytes) == wanted else { continue }
                (modelPath, modelBytes) = (candidate, bytes)
                break
            }
        }
        let isExample = exampleModel != nil && modelPath == exampleModel
        guard let data = request.data ?? (isExample ? example.map { .npz($0.data) } : nil) else {
            if request.model != nil { throw CommandFailure(.usage, "--model needs --data D.npz or --inputs X.npy --labels Y.npy to measure accuracy on") }
            return nil
        }
        guard let modelPath else {
            throw CommandFailure(.usage, "--data needs the float model of \(files.path("sensitivity.json")) (\(wanted)): give --model M.onnx")
        }
        let graph = try ONNXLoader.load(storage: modelBytes, source: modelPath)
        let dataset = try data.load().dataset.requiring(loss: request.loss)
        try dataset.validate(against: graph, modelName: modelPath)
        _ = try dataset.classLabels(for: "the report's accuracy table")
        log("report: measuring accuracy of \(modelPath) on \(dataset.count) examples of \(data.description)")

        let layers = graph.quantizableLayers
        let activationBits = files.plan?.activationBits ?? 8
        var rows: [Evaluation.Row] = []
        let floatLogits = try Executor<Float>(graph: graph).logits(dataset.inputs, batchSize: Executor<Float>.evaluationBatchSize)
        rows.append(.init(name: "float32", bits: nil, accuracy: ClassifierMetrics.accuracy(floatLogits, dataset.labels),
                          loss: ClassifierMetrics.loss(floatLogits, dataset.labels),
                          weightBytes: layers.reduce(0) { $0 + $1.parameterCount * 4 }))
        var variants: [(String, [LayerWidths])] = [8, 4].map { b in
            ("uniform \(b)-bit", Array(repeating: LayerWidths(weightBits: b, activationBits: activationBits), count: layers.count))
        }
        if let plan = files.plan {
            variants.append(("plan", try PlanWidths(plan: plan).widths(for: graph, source: files.path("plan.json"))))
        }
        for (name, widths) in variants {
            let model = try ModelQuantizer(graph: graph, widths: widths).quantize(calibration: dataset.inputs, method: .minMax)
            let logits = try Executor<Float>(graph: model.fakeQuantizedGraph()).logits(dataset.inputs, batchSize: Executor<Float>.evaluationBatchSize)
            let packed = try PackedWeightFile.encode(model.layers.map { PackedLayer(name: $0.weightName, weight: $0.weight) }, file: name)
            rows.append(.init(name: name, bits: widths.map(\.weightBits), accuracy: ClassifierMetrics.accuracy(logits, dataset.labels),
                              loss: ClassifierMetrics.loss(logits, dataset.labels), weightBytes: packed.count))
        }
        let shown = isExample && request.data == nil ? "the embedded example (Examples/digits.npz)" : data.description
        return Evaluation(data: shown, examples: dataset.count, rows: rows)
    }
}
