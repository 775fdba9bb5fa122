import Foundation
import HutchAutodiff
import HutchModel
import HutchQuantize
import HutchTensor

/// Quantization-aware fine-tuning of a float model to a plan's widths, in stages (FineTuneOrder).
///
/// Each step: the weights of the layers quantized so far are quantized by `ModelQuantizer`'s own
/// layer tasks from the float (latent) weights — per-channel scales recomputed every step — and
/// the loss gradient at those dequantized weights is applied to the latent weights (the
/// straight-through estimator); activations of those layers pass fake quantizers whose ranges are
/// calibrated (min-max, as `hutch quantize` does) at the start of each epoch, with the
/// straight-through gradient inside their range. Weights and biases of every quantizable layer
/// are trained, by SGD with momentum under a cosine schedule restarted at each stage.
/// After each epoch the whole plan is quantized exactly as the export does it and evaluated on
/// the training data; the result is the evaluated model with the lowest loss (post-training
/// quantization included). No I/O: progress and interruption come through closures.
public struct QuantizationAwareTrainer {
    public var graph: Graph
    public var widths: [LayerWidths]
    public var data: Dataset
    public var options: FineTuneOptions
    public var order: FineTuneOrder
    /// Canonical layer indices newly quantized at each stage.
    public var stages: [[Int]]
    /// Mean loss and accuracy of logits against labels.
    public var metrics: (Tensor<Float>, [Int]) -> (loss: Double, accuracy: Double)
    /// Checked before every step; true stops the run with the best model so far.
    public var shouldStop: () -> Bool = { false }
    /// One line per epoch.
    public var progress: (String) -> Void = { _ in }

    public init(graph: Graph, widths: [LayerWidths], data: Dataset, options: FineTuneOptions, order: FineTuneOrder, stages: [[Int]],
                metrics: @escaping (Tensor<Float>, [Int]) -> (loss: Double, accuracy: Double)) {
        self.graph = graph
        self.widths = widths
        self.data = data
        self.options = options
        self.order = order
        self.stages = stages
        self.metrics = metrics
    }

    /// The quantized model to write and the run's log.
    public func run() throws -> (model: QuantizedModel, log: FineTuneLog) {
        let batches = ExampleBatches(data: data, batchSize: options.batchSize, seed: options.seed)
        let trainable = trainableParameters()
        var current = graph
        var best = try evaluate(current, stage: 0, epoch: 0)
        let before = best.evaluation
        var stageLogs: [FineTuneLog.Stage] = []
        var interrupted = false, diverged = false
        let totalSteps = stages.count * options.epochs * batches.perBatch
        var stepsDone = 0
        let started = ContinuousClock.now
        var active: [Int] = []

        stages: for (s, newLayers) in stages.enumerated() {
            active += newLayers
            let names = { (layers: [Int]) in layers.map { self.graph.quantizableLayers[$0].nodeName } }
            stageLogs.append(FineTuneLog.Stage(newLayers: names(newLayers), quantizedLayers: names(active), trainLoss: [], evaluations: []))
            var optimizer = MomentumSGD(momentum: options.momentum)
            let schedule = CosineSchedule(peak: options.learningRate, steps: options.epochs * batches.perBatch)
            for epoch in 0..<options.epochs {
                // weights that grew until activations overflow cannot be calibrated: diverged
                guard let model = try Self.unlessOverflowing({ try stageModel(current, active: active) }) else {
                    diverged = true
                    break stages
                }
                var executor = try Executor<Float>(graph: model.fakeQuantizedGraph())
                executor.straightThroughFakeQuantize = true
                let sequence = batches.order(epoch: s * options.epochs + epoch)
                var lossSum = 0.0
                for b in 0..<batches.perBatch {
                    if shouldStop() { interrupted = true; break stages }
                    let (x, y) = batches.batch(b, of: sequence)
                    let tasks = try quantizer(current).tasks()
                    for id in trainable { executor.parameters[id] = current.initializers[id] }
                    for l in active { executor.parameters[graph.quantizableLayers[l].weight] = try tasks[l].run().weight.dequantized() }
                    let result = try executor.gradient(input: x, labels: y, wrt: trainable)
                    // a step too large for the model: stop, keeping the best model so far
                    guard result.loss.isFinite, result.gradients.values.allSatisfy({ $0.data.allSatisfy(\.isFinite) }) else {
                        diverged = true
                        break stages
                    }
                    lossSum += Double(result.loss) * Double(y.count)
                    let rate = schedule.rate(atStep: epoch * batches.perBatch + b)
                    for id in trainable {
                        optimizer.step(&current.initializers[id]!, id: id, gradient: result.gradients[id]!, rate: rate)
                    }
                    guard trainable.allSatisfy({ current.initializers[$0]!.data.allSatisfy(\.isFinite) }) else {
                        diverged = true
                        break stages
                    }
                    stepsDone += 1
                }
                stageLogs[s].trainLoss.append(lossSum / Double(data.count))
                guard let evaluated = try Self.unlessOverflowing({ try evaluate(current, stage: s + 1, epoch: epoch + 1) }) else {
                    diverged = true
                    break stages
                }
                stageLogs[s].evaluations.append(evaluated.evaluation)
                if evaluated.evaluation.loss < best.evaluation.loss { best = evaluated }
                progress(line(stage: s, epoch: epoch, trainLoss: lossSum / Double(data.count), evaluated.evaluation,
                              eta: eta(started, done: stepsDone, total: totalSteps)))
            }
        }
        let log = FineTuneLog(order: order.rawValue, epochs: options.epochs, batchSize: options.batchSize, learningRate: options.learningRate,
                              momentum: options.momentum, seed: options.seed, examples: data.count, before: before, stages: stageLogs,
                              written: best.evaluation, interrupted: interrupted, diverged: diverged)
        return (best.model, log)
    }

    /// nil when `body` meets non-finite values (QuantizerError.nonFiniteValue): after training began
    /// that can only come from the weights training produced, since the same steps ran before it.
    private static func unlessOverflowing<T>(_ body: () throws -> T) throws -> T? {
        do {
            return try body()
        } catch QuantizerError.nonFiniteValue {
            return nil
        }
    }

    /// Weights and biases of the quantizable layers that are initializers, in canonical order.
    public func trainableParameters() -> [ValueID] {
        var ids: [ValueID] = []
        for layer in graph.quantizableLayers {
            ids.append(layer.weight)
            let node = graph.nodes[layer.nodeIndex]
            if node.inputs.count > 2, let bias = node.inputs[2], graph.initializers[bias] != nil { ids.append(bias) }
        }
        return ids
    }

    private func quantizer(_ current: Graph) throws -> ModelQuantizer {
        try ModelQuantizer(graph: current, widths: widths, scheme: options.scheme, range: options.range)
    }

    /// The plan's quantization restricted to the `active` layers (their weights, and the
    /// activations they read); the others stay float.
    private func stageModel(_ current: Graph, active: [Int]) throws -> QuantizedModel {
        let full = try quantizer(current).quantize(calibration: data.inputs)
        let activeSet = Set(active)
        let layers = graph.quantizableLayers
        let read = Set(active.filter { layers[$0].readsActivation }.compactMap { graph.nodes[layers[$0].nodeIndex].inputs[0] })
        return QuantizedModel(graph: current, layers: full.layers.filter { activeSet.contains($0.index) },
                              inputs: full.inputs.filter { read.contains($0.value) }, outputs: [:])
    }

    /// The whole plan quantized as `hutch quantize` does it, with its loss and accuracy.
    private func evaluate(_ current: Graph, stage: Int, epoch: Int) throws -> (model: QuantizedModel, evaluation: FineTuneLog.Evaluation) {
        let model = try quantizer(current).quantize(calibration: data.inputs)
        let logits = try Executor<Float>(graph: model.fakeQuantizedGraph()).logits(data.inputs, batchSize: Executor<Float>.evaluationBatchSize)
        let (loss, accuracy) = metrics(logits, data.labels)
        return (model, FineTuneLog.Evaluation(loss: loss, accuracy: accuracy, stage: stage, epoch: epoch))
    }

    private func eta(_ started: ContinuousClock.Instant, done: Int, total: Int) -> Double {
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return done == 0 ? 0 : seconds / Double(done) * Double(total - done)
    }

    private func line(stage: Int, epoch: Int, trainLoss: Double, _ e: FineTuneLog.Evaluation, eta: Double) -> String {
        String(format: "stage %d/%d epoch %d/%d: train loss %.5f, quantized model loss %.5f accuracy %.2f %%, ETA %.0f s",
               stage + 1, stages.count, epoch + 1, options.epochs, trainLoss, e.loss, e.accuracy * 100, eta)
    }
}
