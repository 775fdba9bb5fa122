/// The Hutchinson adaptive stopping rule, in one place for `SensitivityAnalysis` and the cluster
/// coordinator: rounds of probes per layer group until every layer of the group has a relative
/// standard error at most the tolerance or the group reached the probe limit (fixed `probes`:
/// one round of exactly that many). Decided only between rounds, so the probes used do not depend
/// on how a round is cut into tasks or in which order results arrive.
public struct HutchinsonRounds: Sendable, Hashable {
    public let job: SensitivityJob
    /// Probes per group at most.
    public let limit: Int
    /// Probes a round adds to each active group.
    public let roundSize: Int
    public let tolerance: Double
    /// Probes planned so far per group (including the current round).
    public private(set) var probesDone: [Int]
    /// Groups that still take probes.
    public private(set) var active: [Int]
    /// Rounds started so far.
    public private(set) var round = 0

    public init(job: SensitivityJob, options: TraceOptions) {
        self.job = job
        limit = options.probes ?? max(2, options.maxProbes)
        roundSize = options.probes ?? max(2, options.probesPerRound)
        tolerance = options.tolerance
        probesDone = Array(repeating: 0, count: job.layerGroups.count)
        active = Array(job.layerGroups.indices)
    }

    /// Drops the groups that hit the limit or whose layers all converged. Call once every task
    /// of the current round has been added to `aggregator`.
    public mutating func finishRound(_ aggregator: TraceAggregator) {
        active = active.filter { g in
            guard probesDone[g] < limit else { return false }
            return job.layerGroups[g].contains { l in
                (aggregator.estimate(layer: l)?.relativeStandardError ?? .infinity) > tolerance
            }
        }
    }

    /// The next round's probe range per active group (in group order), or nil when done.
    public mutating func startRound() -> [(group: Int, probes: Range<Int>)]? {
        guard !active.isEmpty else { return nil }
        round += 1
        return active.map { g in
            let next = min(probesDone[g] + roundSize, limit)
            defer { probesDone[g] = next }
            return (g, probesDone[g]..<next)
        }
    }
}
