import HutchAutodiff
import HutchTensor

/// Activation-trace tasks (`ActivationCells`): exact traces when the job is exact (the network is
/// piecewise linear), else Hutchinson on the activations with the job's seed.
extension TaskRunner {
    /// The task's values, laid out [batch][probe][activation] (`ActivationCells`). Probes run
    /// `probesPerCall` at a time from the task's first probe, so tasks cut at multiples of it
    /// make the same calls as one task of every probe.
    public func activationValues(_ task: SensitivityTask) throws -> [Double] {
        let values = ActivationSensitivity.values(of: executor.graph)
        let cells = ActivationCells(batches: job.batchCount, probes: job.method == .exact ? 0 : task.probes.upperBound, values: values.count)
        _ = try cells.expectedValues(task)
        var out: [Double] = []
        for b in task.batches {
            let (x, targets) = batch(b)
            guard case .classes(let labels) = targets else {   // the classifier's loss, as --activations checks first
                throw SensitivityError(.unsupported, "activation sensitivity needs class labels [N] (loss ce); these labels are for another loss head")
            }
            if job.method == .exact {
                let sums = try executor.exactActivationTraceSums(input: x, values: values,
                                                                 maxStackedExamples: executor.exactStackedExamples(budgetBytes: stackBudgetBytes))
                out += values.map { sums[$0] ?? 0 }
                continue
            }
            var block = [Double](repeating: 0, count: task.probes.count * values.count)
            let plan = try activationPlan(values)
            try BufferPool.shared.withLimit(plan.poolLimitBytes) { () throws in
                for p0 in stride(from: task.probes.lowerBound, to: task.probes.upperBound, by: plan.probesPerCall) {
                    let chunk = p0..<min(p0 + plan.probesPerCall, task.probes.upperBound)
                    let seeds = chunk.map { job.seed &* 0x2545_F491_4F6C_DD1D &+ UInt64($0) }
                    let forms = try executor.activationQuadraticForms(input: x, labels: labels, values: values, seeds: seeds,
                                                                      firstExample: job.examples(ofBatch: b).lowerBound, examples: labels.count,
                                                                      chunksInFlight: plan.chunksInFlight).forms
                    for (j, p) in chunk.enumerated() {
                        for (v, id) in values.enumerated() { block[(p - task.probes.lowerBound) * values.count + v] = forms[j][id] ?? 0 }
                    }
                }
            }
            out += block
        }
        return out
    }
}
