import Foundation

/// The STATUS document (`hutch status --json`).
extension CoordinatorCore {
    struct StatusDocument: Codable {
        struct Worker: Codable {
            var name: String
            var leases: Int
            var completed: Int
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
        var tasksDone: Int
        var tasksLeased: Int
        var tasksQueued: Int
        var duplicates: Int
        var workers: [Worker]
        var layers: [Layer]
        var tolerance: Double?
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
            tolerance: spec.job.method == .hutchinson && schedule.options.probes == nil ? schedule.options.tolerance : nil)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return (try? String(decoding: encoder.encode(doc), as: UTF8.self)) ?? "{}"
    }
}
