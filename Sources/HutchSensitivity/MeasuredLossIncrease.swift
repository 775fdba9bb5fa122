/// The measured objective (Protocols/README.md, "Measured loss increase") in one process: for
/// each layer l and width b, the mean loss on the job's examples with layer l's weight alone
/// quantized to b bits, minus the float model's mean loss. One forward pass per layer, width and
/// batch of the job. It runs the tasks a cluster runs (`MeasuredCells`, one per cell here) and
/// sums their per-batch sums in batch order, so it gives the cluster's bits for any cut.
public struct MeasuredLossIncrease {
    public var runner: TaskRunner
    public var bits: [Int]

    public init(runner: TaskRunner, bits: [Int]) {
        self.runner = runner
        self.bits = bits
    }

    /// The float model's mean loss and, per layer (canonical order), the increase by width.
    /// `progress` gets the number of tasks done after each.
    public func run(progress: (Int) -> Void = { _ in }) throws -> (baseLoss: Double, increases: [[Int: Double]]) {
        var cells = MeasuredCells(layers: runner.layers.count, bits: bits, batches: runner.job.batchCount)
        for (done, task) in cells.tasks(batchesPerTask: .max).enumerated() {
            try cells.add(task, try runner.measuredLossSums(task))
            progress(done + 1)
        }
        guard let result = cells.result(examples: runner.job.samples) else {
            throw SensitivityError(.invalidResult, "the measured loss increase is missing a cell (internal error)")
        }
        return result
    }
}
