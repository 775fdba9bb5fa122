import Foundation
import HutchAllocation
import HutchAutodiff
import HutchClusterCore
import HutchModel
import HutchQuantize
import HutchTensor

/// `hutch quantize`: quantizes a model to the widths of a plan and writes a QDQ ONNX model
/// (plus, on request, the packed weight file, the plan annotated with requantization scales,
/// and Hutch's own fake-quantized logits). Everything is computed before anything is written,
/// and the outputs are written all or nothing.
public struct QuantizeJob {
    public var model: String
    public var plan: String
    public var out: String
    /// Calibrates activation ranges and measures accuracy; needed unless `weightsOnly`.
    public var data: DataSource?
    /// The loss head `--loss` names (nil: chosen by the labels); `data` must be for it.
    public var loss: String?
    public var weightsOnly = false
    /// Activations of at most 4 bits in UINT4 QDQ pairs (opset 21) instead of UINT8 with a Clip.
    public var narrowActivations = false
    /// Also the packed weight file, the annotated plan, the fake-quantized logits on `data`.
    public var packed: String?
    public var planOut: String?
    public var logits: String?
    /// Also runs the quantized network in integers on `data` (HAWQ-V3) and writes the comparison
    /// with the QDQ model here.
    public var integerCheck: String?
    /// Writes the large initializers to OUT.data (ONNX external data) even when they would fit
    /// in the model file; past protobuf's 2 GiB they always go there.
    public var externalData = false
    public var calibration = CalibrationMethod.minMax
    public var scheme = QuantizationScheme.symmetric
    public var range = RangeMethod.minMax
    /// Calibration reads the data files this many bytes of floats at a time (at least one example).
    var windowBytes = 256 << 20

    public init(model: String, plan: String, out: String) {
        self.model = model
        self.plan = plan
        self.out = out
    }

    /// What was written, for the one line `hutch quantize` prints.
    public struct Outcome {
        public var layers: Int
        public var weightBits: [Int]
        /// Quantized activation tensors; nil with float activations.
        public var quantizedActivations: Int?
        public var opset: Int64
    }

    public func run() throws -> Outcome {
        let modelBytes = try mapModel(model)
        let proto = try ONNXLoader.decode(storage: modelBytes, source: model)
        let graph = try ONNXLoader.load(model: proto, source: model)
        let planData = try readFile(plan, what: "plan")
        let planWidths = try PlanWidths.decode(planData, source: plan)
        try planWidths.check(modelDigest: Digest.sha256(modelBytes), modelPath: model, source: plan)
        let widths = try planWidths.widths(for: graph, source: plan)

        // the files stay open: calibration reads them again a window at a time, as the coordinator's does
        let dataFiles = OpenDataFiles()
        let dataset = try data.map { source in
            let dataset = try source.load(files: dataFiles).dataset.requiring(loss: loss)
            try dataset.validate(against: graph, modelName: model)
            return dataset
        }
        var calibrationGroups: FileCalibrationGroups?
        if !weightsOnly, let data, let dataset {
            calibrationGroups = FileCalibrationGroups(source: data, dataset: dataset, files: dataFiles, readBytes: windowBytes)
        }

        let quantizer = try ModelQuantizer(graph: graph, widths: widths, scheme: scheme, range: range)
        let quantized = try quantizer.quantize(calibrationExamples: calibrationGroups, method: calibration)
        let (exported, files) = try Self.modelFiles(quantized, original: proto, model: model, out: out, packed: packed, externalData: externalData,
                                                    narrowActivations: narrowActivations)
        var outputs = files
        if let planOut {
            outputs.append(StagedOutput(path: planOut, data: try PlanWidths.annotated(planData, model: quantized, source: plan)))
        }
        if let integerCheck, let dataset {
            _ = try dataset.classLabels(for: "--integer-check \(integerCheck)")
        }
        if let dataset, let data, !dataset.labels.isEmpty {   // accuracy and loss of classifiers
            let quantizedLogits = try Executor<Float>(graph: quantized.fakeQuantizedGraph()).logits(dataset.inputs, batchSize: Executor<Float>.evaluationBatchSize)
            let floatLogits = try Executor<Float>(graph: graph).logits(dataset.inputs, batchSize: Executor<Float>.evaluationBatchSize)
            log("on \(dataset.count) examples of \(data.description): float accuracy \(Self.percent(ClassifierMetrics.accuracy(floatLogits, dataset.labels))) "
                + "loss \(String(format: "%.5f", ClassifierMetrics.loss(floatLogits, dataset.labels))), fake-quantized accuracy "
                + "\(Self.percent(ClassifierMetrics.accuracy(quantizedLogits, dataset.labels))) loss \(String(format: "%.5f", ClassifierMetrics.loss(quantizedLogits, dataset.labels)))")
            if let integerCheck {
                let report = try IntegerCheck.run(model: quantized, inputs: dataset.inputs, labels: dataset.labels)
                log(report.summary)
                outputs.append(StagedOutput(path: integerCheck, data: try report.json()))
            }
            if let logits {
                let array = NumPyArray(shape: quantizedLogits.shape, float32: quantizedLogits.data)
                outputs.append(StagedOutput(path: logits, data: Data(array.npyData())))
            }
        }
        try writeAllOrNothing(outputs)
        return Outcome(layers: quantized.layers.count, weightBits: widths.map(\.weightBits), quantizedActivations: weightsOnly ? nil : quantized.inputs.count,
                       opset: exported.defaultOpset ?? 0)
    }

    /// The QDQ model's file(s) and, when asked, the packed weight file; `hutch finetune` writes
    /// its fine-tuned model through this too. The layers' integer data is made as the file is
    /// written (`QDQExporter.exportDeferred`), not held a second time.
    static func modelFiles(_ quantized: QuantizedModel, original proto: ONNXModelProto, model: String, out: String, packed: String?,
                           externalData: Bool, narrowActivations: Bool) throws -> (ONNXModelProto, [StagedOutput]) {
        let layers = quantized.layers
        let (qdq, deferred) = try QDQExporter.exportDeferred(quantized, original: proto, source: model, narrowActivations: narrowActivations) {
            layers[$0].weight.codes
        }
        // tensors the export keeps (biases, norms) leave the external data file for the output
        let exported = try ExternalDataFiles(modelPath: model).inlined(qdq)
        var outputs = QuantizedModelFile.outputs(exported, deferred: deferred, path: out, externalData: externalData)
        if let packed {
            let layers = quantized.layers.map { PackedLayer(name: $0.weightName, weight: $0.weight) }
            outputs.append(StagedOutput(path: packed, data: Data(try PackedWeightFile.encode(layers, file: packed))))
        }
        return (exported, outputs)
    }

    static func percent(_ x: Double) -> String { String(format: "%.2f %%", x * 100) }
}
