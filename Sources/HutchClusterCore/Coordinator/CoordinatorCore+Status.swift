import Foundation

/// The STATUS document (`hutch status --json`).
extension CoordinatorCore {
    struct StatusDocument: Codable {
        struct Worker: Codable {
            var name: String
            var leases, completed: Int
            var lastHeardMsAgo: UInt64
            /// Tasks completed per second since it joined.
            var tasksPerSecond: Double
        }
        struct Layer: Codable {
            var index: Int
            var probes: Int?
            var trace: Double?
            /// standard error / |trace| so far (Hutchinson; nil until two probes are complete)
            var relativeStandardError: Double?
        }
        var phase: String
        var round: Int
        /// The coordinator's task counts (CoordinatorCore's properties of the same names).
        var tasksDone, tasksLeased, tasksQueued, duplicates: Int
        var workers: [Worker]
        var layers: [Layer]
        var tolerance: Double?
        /// Seconds until the tasks known now are done at this phase's throughput so far; nil
        /// before the phase's first result and while the plan is solved.
        var etaSeconds: Double?
        /// Tasks done per second in this phase so far (nil before its first result).
        var tasksPerSecond: Double?
    }

    /// Tasks done per second in the current phase, from the `now` values given (nil before
    /// its first result, or outside the sensitivity and quantize phases).
    public func throughput(now: UInt64) -> Double? {
        guard phase == "sensitivity" || phase == "quantize", let start = phaseStartMs, now > start else { return nil }
        let done = tasksDone - doneAtPhaseStart
        guard done > 0 else { return nil }
        return Double(done) / (Double(now - start) / 1000)
    }

    /// Seconds until the tasks known now (leased and queued) are done at the current phase's
    /// throughput; 0 once the job is finished; nil while unknown. A Hutchinson job with a
    /// tolerance may still add rounds after the known tasks.
    public func etaSeconds(now: UInt64) -> Double? {
        if finished { return 0 }
        guard let rate = throughput(now: now) else { return nil }
        return Double(tasksLeased + tasksQueued) / rate
    }

    func statusJSON(_ now: UInt64) -> String {
        let doc = StatusDocument(
            phase: phase, round: round, tasksDone: tasksDone, tasksLeased: tasksLeased,
            tasksQueued: tasksQueued, duplicates: duplicates,
            workers: peers.keys.sorted(by: Self.order).compactMap { key in
                peers[key].map { p in
                    let seconds = Double(now - min(now, p.joined)) / 1000
                    return .init(name: p.name, leases: p.leases.count, completed: p.completed,
                                 lastHeardMsAgo: now - min(now, p.lastHeard),
                                 tasksPerSecond: seconds > 0 ? (Double(p.completed) / seconds * 100).rounded() / 100 : 0)
                }
            },
            layers: (0..<spec.job.layerCount).map { l in
                let e = aggregator.estimate(layer: l)
                let rse = e?.relativeStandardError
                return .init(index: l, probes: e?.probes, trace: e?.trace, relativeStandardError: rse.flatMap { $0.isFinite ? $0 : nil })
            },
            tolerance: spec.job.method.isSampled && schedule.options.probes == nil ? schedule.options.tolerance : nil,
            etaSeconds: etaSeconds(now: now).map { ($0 * 10).rounded() / 10 },
            tasksPerSecond: throughput(now: now).map { ($0 * 100).rounded() / 100 })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return (try? String(decoding: encoder.encode(doc), as: UTF8.self)) ?? "{}"
    }
}
