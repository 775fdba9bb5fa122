import HutchAutodiff
import HutchModel
import HutchTensor

/// Runs tasks of one job on one model and data set, in one process. What a cluster worker does
/// with a task it is leased; `hutch trace` runs every task of a job through one of these.
public struct TaskRunner: Sendable {
    public let job: SensitivityJob
    public let executor: Executor<Float>
    public let layers: [QuantizableLayer]
    public let dataset: Dataset
    /// Hutchinson probes stacked into one HVP call. Only speed depends on it: each probe's
    /// quadratic forms are bit-identical whatever probes share its call.
    public var probesPerCall: Int
    /// Bytes the stacked reverse passes of exact and ggn tasks may hold (`MemoryBudget`). Only
    /// speed and memory depend on it, and for ggn not even a bit; exact's last bits can change
    /// when a pass holds fewer than 8 seeds.
    public var stackBudgetBytes = Executor<Float>.exactStackBudgetBytes
    /// `--memory` in bytes: bounds Hutchinson's chunks in flight, and its probes per call when
    /// one chunk would not fit (`hutchinsonPlan`); nil: one chunk per thread. Bits never change.
    public var memoryBytes: Int?
    /// Per layer: whether it is the first reader of its weight. A weight several layers read (an
    /// ALBERT layer shared across depth) has one Hessian block, whose trace its first reader
    /// carries; the other readers carry 0, so that the tied group's sum is that trace once
    /// (Protocols/README.md, "tie_group rule").
    public let carriesWeight: [Bool]

    /// `dataset` must hold at least `job.samples` examples (the first ones are used).
    public init(graph: Graph, dataset: Dataset, job: SensitivityJob, probesPerCall: Int = 4) throws {
        try job.validate()
        let layers = graph.quantizableLayers
        guard layers.count == job.layerCount else {
            throw SensitivityError(.invalidJob, "the job has \(job.layerCount) layers but the model has \(layers.count) quantizable layers")
        }
        if job.method != .hutchinson, !dataset.hasClassTargets {   // exact and ggn use the softmax cross-entropy's logit Hessian
            throw SensitivityError(.unsupported, "\(job.method == .exact ? "exact" : "sampled GGN") traces are for classification labels (loss ce); these labels are for another loss head: use --method hutchinson")
        }
        guard dataset.count >= job.samples else {
            throw SensitivityError(.invalidJob, "the job uses \(job.samples) examples but the data holds \(dataset.count)")
        }
        self.job = job
        self.layers = layers
        var seen = Set<ValueID>()
        carriesWeight = layers.map { seen.insert($0.weight).inserted }
        self.dataset = dataset
        self.probesPerCall = max(1, probesPerCall)
        executor = try Executor<Float>(graph: graph)
    }

    /// Inputs and loss targets of batch b.
    public func batch(_ b: Int) -> (inputs: Tensor<Float>, targets: LossTargets) {
        let range = job.examples(ofBatch: b)
        let per = dataset.exampleShape.reduce(1, *)
        let data = Array(dataset.inputs.data[(range.lowerBound * per)..<(range.upperBound * per)])
        return (Tensor(shape: [range.count] + dataset.exampleShape, data: data), dataset.targets.examples(range))
    }

    public func run(_ task: SensitivityTask) throws -> TaskResult {
        try task.validate(in: job)
        let taskLayers = job.layers(ofGroups: task.groups)
        let width = taskLayers.count
        let counts = task.batches.map { job.examples(ofBatch: $0).count }
        switch job.method {
        case .exact:
            var values = [Double](repeating: 0, count: task.batches.count * width)
            let weights = carriedWeights(taskLayers)
            for (bi, b) in task.batches.enumerated() {
                let sums = try executor.exactHessianTraceSums(input: batch(b).inputs, layers: weights,
                                                              maxStackedExamples: executor.exactStackedExamples(budgetBytes: stackBudgetBytes))
                for (li, l) in taskLayers.enumerated() where carriesWeight[l] { values[bi * width + li] = sums[layers[l].weight] ?? 0 }
            }
            return TaskResult(task: task, exampleCounts: counts, values: values)
        case .hutchinson:
            let plan = try hutchinsonPlan()
            // under --memory the pool caches no more than the budget leaves it (Protocols/README.md, "Memory")
            let values = try BufferPool.shared.withLimit(plan.poolLimitBytes) { () throws in try hutchinsonValues(task, plan) }
            return TaskResult(task: task, exampleCounts: counts, values: values)
        case .ggn:
            return TaskResult(task: task, exampleCounts: counts, values: try gaussNewtonValues(task, taskLayers))
        }
    }
    /// A Hutchinson task's forms, laid out [probe][batch][layer], `plan.probesPerCall` probes per call.
    private func hutchinsonValues(_ task: SensitivityTask, _ plan: HutchinsonChunkPlan) throws -> [Double] {
        let width = job.layers(ofGroups: task.groups).count
        let nb = task.batches.count
        var values = [Double](repeating: 0, count: task.probes.count * nb * width)
        let generator = ProbeGenerator(seed: job.seed)
        var offset = 0   // position of the group's first layer in the task's layer list
        for g in task.groups {
            let group = job.layerGroups[g]
            for p0 in stride(from: task.probes.lowerBound, to: task.probes.upperBound, by: plan.probesPerCall) {
                let chunk = p0..<min(p0 + plan.probesPerCall, task.probes.upperBound)
                let carried = group.filter { carriesWeight[$0] }
                guard !carried.isEmpty else { continue }   // its readers' values stay 0
                // stacked once for every batch of the task, filled in place
                let layerOf = Dictionary(uniqueKeysWithValues: carried.map { (layers[$0].weight, $0) })
                let directions = try executor.stackedDirections(k: chunk.count, on: carried.map { layers[$0].weight }) { j, id, buffer in
                    generator.fillSigns(buffer, probe: chunk.lowerBound + j, layer: layerOf[id]!)
                }
                for (bi, b) in task.batches.enumerated() {
                    let (x, y) = batch(b)
                    let forms = try executor.hessianQuadraticForms(input: x, targets: y, directions: directions,
                                                                   chunksInFlight: plan.chunksInFlight).forms
                    for (j, p) in chunk.enumerated() {
                        let pi = p - task.probes.lowerBound
                        for (gi, l) in group.enumerated() where carriesWeight[l] {
                            values[(pi * nb + bi) * width + offset + gi] = forms[j][layers[l].weight] ?? 0
                        }
                    }
                }
            }
            offset += group.count
        }
        return values
    }


    /// Sampled GGN cells in Hutchinson's layout: per sample, batch and layer, the batch's mean of
    /// ||d(u^T A_i f_i)/dW_l||^2, summed in example order. u depends only on (seed, sample,
    /// example), so every layer group and every cut of the samples sees the same vectors.
    func gaussNewtonValues(_ task: SensitivityTask, _ taskLayers: [Int]) throws -> [Double] {
        let nb = task.batches.count, width = taskLayers.count
        var values = [Double](repeating: 0, count: task.probes.count * nb * width)
        let generator = ProbeGenerator(seed: job.seed)
        let weights = carriedWeights(taskLayers)
        for (bi, b) in task.batches.enumerated() {
            let (x, _) = batch(b)
            let first = job.examples(ofBatch: b).lowerBound, n = x.shape[0]
            for p0 in stride(from: task.probes.lowerBound, to: task.probes.upperBound, by: probesPerCall) {
                let chunk = p0..<min(p0 + probesPerCall, task.probes.upperBound)
                let norms = try executor.sampledGaussNewtonNorms(input: x, layers: weights, samples: chunk.count,
                                                                 maxStackedExamples: executor.exactStackedExamples(budgetBytes: stackBudgetBytes)) { s, i, classes in
                    generator.signs(Float.self, stream: .gaussNewton, probe: chunk.lowerBound + s, layer: first + i, count: classes)
                }
                for (j, p) in chunk.enumerated() {
                    for (li, l) in taskLayers.enumerated() where carriesWeight[l] {
                        var sum = 0.0
                        if let t = norms[layers[l].weight] { for i in 0..<n { sum += Double(t.data[j * n + i]) } }
                        values[((p - task.probes.lowerBound) * nb + bi) * width + li] = sum / Double(n)
                    }
                }
            }
        }
        return values
    }

    /// The weights of those of `taskLayers` that carry their weight, in order, each once.
    func carriedWeights(_ taskLayers: [Int]) -> [ValueID] {
        taskLayers.filter { carriesWeight[$0] }.map { layers[$0].weight }
    }
}
