import Foundation
import HutchAutodiff
import HutchClusterCore
import HutchModel
import HutchQuantize

extension PlanJob {
    /// `hutch plan --check --model M --data D`: the measured loss change with every layer's
    /// weight quantized at once to the plan's widths (activations float), which the per-layer
    /// sums cannot show (how the layers' errors interact).
    static func measuredPlanChange(modelPath: String, data: DataSource, lossHead: String?, bits: [Int]) throws -> Double {
        let graph = try ONNXLoader.load(storage: try mapModel(modelPath), source: modelPath)
        let dataset = try data.load().dataset.requiring(loss: lossHead)
        try dataset.validate(against: graph, modelName: modelPath)
        let quantized = try ModelQuantizer(graph: graph, widths: bits.map { LayerWidths(weightBits: $0) }).quantize(calibration: nil)
        func loss(_ g: Graph) throws -> Double {
            ClassifierMetrics.loss(try Executor<Float>(graph: g).logits(dataset.inputs, batchSize: Executor<Float>.evaluationBatchSize), dataset.labels)
        }
        return try loss(quantized.fakeQuantizedGraph()) - loss(graph)
    }
}
