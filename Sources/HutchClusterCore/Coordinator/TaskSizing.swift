/// How many tasks a sensitivity round is cut into (pure). The cut never changes the result
/// (the aggregator is independent of it); it only decides how well 1 to 1000 workers are kept
/// busy against the per-task overhead (a TASK, a RESULT, a lease).
///
/// Default (no `--tasks-per-worker`): one task is about `secondsPerTask` of work on one core at
/// `nominalMACsPerSecond`, where a Hessian-vector product of one example costs
/// `hvpCostFactor` forward passes (forward, backward and their directional derivatives); but
/// never fewer than `minTasksPerWorker` tasks per worker (so that a worker that finishes early
/// has another to take) and never more than the round's cells (one probe chunk × one batch ×
/// one group: a finer cut does not exist). With `--tasks-per-worker K`: workers × K.
public enum TaskSizing {
    /// A nominal single-core rate: slow enough for a debug build or a busy core, so tasks are
    /// rather too small than too large.
    public static let nominalMACsPerSecond = 1e9
    public static let secondsPerTask = 3.0
    public static let hvpCostFactor = 4.0
    public static let minTasksPerWorker = 2
    /// Tasks per worker when the model's MACs are unknown (an op whose cost is not modelled).
    public static let fallbackTasksPerWorker = 4

    /// Tasks for a round of `roundMACs` forward MACs in all (probes × examples × MACs per
    /// example; nil: unknown) with `cells` as the finest cut.
    public static func tasks(workers: Int, tasksPerWorker: Int?, roundMACs: Double?, cells: Int) -> Int {
        let workers = max(1, workers), cells = max(1, cells)
        if let tasksPerWorker { return workers * max(1, tasksPerWorker) }
        guard let roundMACs, roundMACs.isFinite, roundMACs > 0 else {
            return min(cells, workers * fallbackTasksPerWorker)
        }
        let perTask = nominalMACsPerSecond * secondsPerTask
        // capped before the conversion so that a huge model cannot overflow Int
        let byCost = Int(min(Double(cells), (roundMACs * hvpCostFactor / perTask).rounded(.up)))
        return min(cells, max(workers * minTasksPerWorker, byCost))
    }

    /// Forward MACs of one round: `exampleProbes` (Σ over tasks of probes × examples; exact
    /// counts one per example) times the model's MACs per example.
    public static func roundMACs(exampleProbes: Int, macsPerExample: Int?) -> Double? {
        guard let macsPerExample, macsPerExample > 0 else { return nil }
        return Double(exampleProbes) * Double(macsPerExample)
    }

    /// The model's MACs per example from its layers' (nil when none is known; unknown layers
    /// count as 0, saturating instead of overflowing).
    public static func macsPerExample(layers: [Int?]) -> Int? {
        let known = layers.compactMap { $0 }.filter { $0 > 0 }
        guard !known.isEmpty else { return nil }
        return known.reduce(0) { let (sum, overflow) = $0.addingReportingOverflow($1); return overflow ? .max : sum }
    }

    /// Batches per task when `unsplitTasks` tasks of all `batchCount` batches each must be cut
    /// into at least `targetTasks`: each split into equal runs of batches, as few as reach it.
    public static func batchesPerTask(batchCount: Int, unsplitTasks: Int, targetTasks: Int) -> Int {
        guard unsplitTasks < targetTasks else { return batchCount }
        let pieces = (targetTasks + unsplitTasks - 1) / max(1, unsplitTasks)
        return max(1, (batchCount + pieces - 1) / pieces)
    }

    /// a × b, saturating at Int.max (counts from user flags must not trap).
    public static func product(_ a: Int, _ b: Int) -> Int {
        let (p, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? .max : p
    }
}
