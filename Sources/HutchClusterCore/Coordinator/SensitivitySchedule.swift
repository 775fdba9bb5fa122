import HutchSensitivity

/// Which tasks the sensitivity phase runs, round by round, and when it stops. Same rounds and
/// stopping rule as `SensitivityAnalysis` (hutchinson: rounds of probes per layer group until
/// every layer's relative standard error is at most the tolerance or the probe limit is hit),
/// decided only at round boundaries, so the probes used, and thus the bits, do not depend on
/// how many workers there are or in which order their results arrive. Only the cut of each
/// round into tasks differs, and the aggregator makes the totals independent of the cut.
public struct SensitivitySchedule: Sendable {
    public let job: SensitivityJob
    public let options: TraceOptions
    public let workers: Int
    /// `--tasks-per-worker` (nil: sized from the model's cost, see `TaskSizing`).
    public let tasksPerWorker: Int?
    /// The model's forward MACs per example (nil: unknown).
    public let macsPerExample: Int?
    /// Tasks the last round was cut into, at least (when the round has enough work).
    public private(set) var targetTasks = 0
    /// The adaptive stopping rule, shared with `SensitivityAnalysis` (hutchinson only).
    public private(set) var rounds: HutchinsonRounds
    public private(set) var round = 0
    public var probesDone: [Int] { rounds.probesDone }
    public var active: [Int] { rounds.active }

    public init(job: SensitivityJob, options: TraceOptions, workers: Int, tasksPerWorker: Int?, macsPerExample: Int? = nil) {
        self.job = job
        self.options = options
        self.workers = max(1, workers)
        self.tasksPerWorker = tasksPerWorker
        self.macsPerExample = macsPerExample
        rounds = HutchinsonRounds(job: job, options: options)
    }

    /// The next round's tasks in canonical order, or nil when the job is complete. Call it
    /// once at the start and then each time every task of the previous round is done.
    public mutating func nextRound(_ aggregator: TraceAggregator) -> [SensitivityTask]? {
        if job.method == .exact {
            guard round == 0, !rounds.active.isEmpty else { return nil }
            round = 1
            return exactTasks()
        }
        if round > 0 { rounds.finishRound(aggregator) }
        guard let ranges = rounds.startRound() else { return nil }
        round = rounds.round
        // probe chunks of the stacking size; batches split only as far as needed to fill workers
        let ppt = max(1, options.probesPerCall)
        let unsplit = ranges.reduce(0) { $0 + ($1.probes.count + ppt - 1) / ppt }
        let probes = ranges.reduce(0) { $0 + $1.probes.count }
        targetTasks = target(cells: TaskSizing.product(unsplit, job.batchCount), exampleProbes: TaskSizing.product(probes, job.samples))
        let bpt = batchesPerTask(unsplitTasks: unsplit)
        return ranges.flatMap { job.tasks(probes: $0.probes, groups: [$0.group], batchesPerTask: bpt, probesPerTask: ppt) }
    }

    /// Exact: every batch range over all groups; groups are split too when batches alone
    /// cannot make enough tasks.
    mutating func exactTasks() -> [SensitivityTask] {
        targetTasks = target(cells: TaskSizing.product(job.batchCount, job.layerGroups.count), exampleProbes: job.samples)
        let bpt = batchesPerTask(unsplitTasks: 1)
        let batchChunks = (job.batchCount + bpt - 1) / bpt
        let G = job.layerGroups.count
        let groupPieces = min(G, max(1, (targetTasks + batchChunks - 1) / batchChunks))
        var out: [SensitivityTask] = []
        for b0 in stride(from: 0, to: job.batchCount, by: bpt) {
            for piece in 0..<groupPieces {
                let g0 = piece * G / groupPieces, g1 = (piece + 1) * G / groupPieces
                out.append(SensitivityTask(batches: b0..<min(b0 + bpt, job.batchCount), probes: 0..<0, groups: g0..<g1))
            }
        }
        return out
    }

    func target(cells: Int, exampleProbes: Int) -> Int {
        TaskSizing.tasks(workers: workers, tasksPerWorker: tasksPerWorker,
                         roundMACs: TaskSizing.roundMACs(exampleProbes: exampleProbes, macsPerExample: macsPerExample), cells: cells)
    }

    func batchesPerTask(unsplitTasks: Int) -> Int {
        TaskSizing.batchesPerTask(batchCount: job.batchCount, unsplitTasks: unsplitTasks, targetTasks: targetTasks)
    }

    /// Per-layer estimates once the schedule is complete.
    public func estimates(_ aggregator: TraceAggregator) -> [LayerEstimate?] {
        (0..<job.layerCount).map { aggregator.estimate(layer: $0) }
    }
}
