import Foundation
import HutchAllocation
import HutchAutodiff
import HutchClusterCore
import HutchFineTune
import HutchModel
import HutchQuantize
import HutchSensitivity
import HutchTensor

/// `hutch finetune`: quantization-aware fine-tuning of a model to a plan's widths
/// (QuantizationAwareTrainer), written as the same QDQ ONNX model `hutch quantize` writes, with
/// the fine-tuned weights and biases, plus the log (Protocols/README.md, "Fine-tuning log").
/// SIGINT/SIGTERM stop the training; the best model so far is written and the job then fails
/// with exit code 10.
public struct FineTuneJob {
    public var model: String
    public var plan: String
    public var data: DataSource
    public var out: String
    public var packed: String?
    /// Default: OUT with ".onnx" replaced by ".finetune.json".
    public var logFile: String?
    /// Traces for `--order hessian`; computed on the data (exact or Hutchinson, `hutch trace`'s defaults) when nil.
    public var sensitivity: String?
    public var order = FineTuneOrder.hessian
    /// `--order hessian` ranks by each layer's top Hessian eigenvalue instead of its trace per parameter.
    public var eigen = false
    public var options = FineTuneOptions()
    /// Compute threads; nil: all cores. Results are deterministic for a seed and thread count.
    public var threads: Int?

    public init(model: String, plan: String, data: DataSource, out: String) {
        self.model = model
        self.plan = plan
        self.data = data
        self.out = out
    }

    /// The default log path beside the output.
    public static func logPath(out: String) -> String {
        (out.hasSuffix(".onnx") ? String(out.dropLast(5)) : out) + ".finetune.json"
    }

    public func run() throws -> FineTuneLog {
        if let threads { Kernels.setThreads(threads) }
        let modelBytes = try mapModel(model)
        let proto = try ONNXLoader.decode(storage: modelBytes, source: model)
        let graph = try ONNXLoader.load(model: proto, source: model)
        let planWidths = try PlanWidths.decode(try readFile(plan, what: "plan"), source: plan)
        let modelDigest = Digest.sha256(modelBytes)
        try planWidths.check(modelDigest: modelDigest, modelPath: model, source: plan)
        let widths = try planWidths.widths(for: graph, source: plan)
        let (dataset, _) = try data.load()
        try dataset.validate(against: graph, modelName: model)
        _ = try dataset.classLabels(for: "hutch finetune")   // its loss and accuracy are the classifier's

        let ranking: FineTuneOrder.BlockRanking = eigen ? .topEigenvalue : .tracePerParameter(parameterCounts: graph.quantizableLayers.map(\.parameterCount))
        let layerSensitivity = try sensitivities(graph, dataset, modelDigest: modelDigest)
        let stages = FineTuneOrder.stages(order, sensitivity: layerSensitivity,
                                          blocks: order == .hessian ? graph.fineTuningBlocks : [], ranking: ranking)
        if order == .hessian {
            let blocks = stages.map { block in
                block.map { graph.quantizableLayers[$0].nodeName }.joined(separator: "+") + " "
                    + String(format: "%.4g", FineTuneOrder.blockSensitivity(of: block, layers: layerSensitivity, ranking: ranking))
            }
            log("order (most sensitive first; blocks by \(eigen ? "top eigenvalue" : "trace per parameter")): " + blocks.joined(separator: ", "))
        }
        var trainer = QuantizationAwareTrainer(graph: graph, widths: widths, data: dataset, options: options, order: order, stages: stages,
                                               metrics: { (ClassifierMetrics.loss($0, $1), ClassifierMetrics.accuracy($0, $1)) })
        Interruption.installHandlers()
        trainer.shouldStop = { Interruption.reason() != nil }
        trainer.progress = { log($0) }
        let (quantized, result) = try trainer.run()

        let tuned = try Self.withTrainedBiases(proto, quantized.graph, trainer.trainableParameters(), source: model)
        var (_, outputs) = try QuantizeJob.modelFiles(quantized, original: tuned, model: model, out: out, packed: packed, externalData: false,
                                                     narrowActivations: false)
        outputs.append(StagedOutput(path: logFile ?? Self.logPath(out: out), data: try JSONEncoder.hutchFile().encode(result)))
        try writeAllOrNothing(outputs)
        if result.diverged {
            log("warning: training diverged (a non-finite loss or gradient) at stage \(result.stages.count); wrote the best model before it; try a smaller --lr")
        }
        if result.interrupted {
            throw CommandFailure(.interrupted, "\(Interruption.reason() ?? "interrupted"): wrote the best model so far (after stage \(result.written.stage), epoch \(result.written.epoch)) to \(out)")
        }
        return result
    }

    /// Each layer's sensitivity in canonical order, trace per parameter (or top eigenvalue with
    /// `eigen`): from --sensitivity, or computed; zeros for `--order all`, which does not use them.
    private func sensitivities(_ graph: Graph, _ dataset: Dataset, modelDigest: String) throws -> [Double] {
        let layers = graph.quantizableLayers
        guard order == .hessian else { return Array(repeating: 0, count: layers.count) }
        guard let sensitivity else {
            log("computing the Hessian \(eigen ? "top eigenvalues" : "traces") for --order hessian (give --sensitivity to reuse a sensitivity.json)")
            var options = TraceOptions()
            options.eigenvalues = eigen
            let result = try SensitivityAnalysis.run(graph: graph, dataset: dataset, options: options)
            return result.layers.map { eigen ? ($0.topEigenvalue ?? 0) : $0.trace / Double($0.layer.parameterCount) }
        }
        let report = try SensitivityReport.decode(try readFile(sensitivity, what: "sensitivity file"), source: sensitivity)
        guard report.job.modelDigest == modelDigest else {
            throw CommandFailure(.invalidSensitivity, "\(sensitivity): made for model \(report.job.modelDigest) but \(model) is \(modelDigest); run `hutch trace` on this model")
        }
        return try layers.map { layer in
            guard let entry = report.layers.first(where: { $0.weight == layer.weightName }) else {
                throw CommandFailure(.invalidSensitivity, "\(sensitivity): no entry for layer '\(layer.nodeName)' (weight '\(layer.weightName)')")
            }
            guard eigen else { return entry.tracePerParameter }
            guard let top = entry.topEigenvalue else {
                throw CommandFailure(.invalidSensitivity, "\(sensitivity): layer '\(layer.nodeName)' has no top_eigenvalue, which --eigen ranks by; run `hutch trace --eigen`")
            }
            return top
        }
    }

    /// The original model with the trained biases in place of its own (the weights go in as codes).
    static func withTrainedBiases(_ proto: ONNXModelProto, _ graph: Graph, _ trained: [ValueID], source: String) throws -> ONNXModelProto {
        var proto = proto
        let weights = Set(graph.quantizableLayers.map(\.weight))
        for id in trained where !weights.contains(id) {
            let name = graph.values[id.index].name
            guard let tensor = graph.initializers[id],
                  let position = proto.graph?.initializers.firstIndex(where: { $0.name == name }),
                  let dims = proto.graph?.initializers[position].dims, Int(dims.reduce(1, *)) == tensor.count else {
                throw CommandFailure(.invalidModel, "\(source): bias '\(name)' is not an initializer of the file with its loaded size; export the model with constant folding on")
            }
            proto.graph?.initializers[position] = .floats(name, dims: dims.map { Int($0) }, tensor.data)
        }
        return proto
    }
}
