import Foundation

/// The STATUS document (`hutch status --json`).
extension CoordinatorCore {
    struct StatusDocument: Codable {
        struct Worker: Codable {
            var name: String
            var leases: Int
            var completed: Int
            var lastHeardMsAgo: UInt64
        }
        var phase: String
        var round: Int
        var tasksDone: Int
        var tasksLeased: Int
        var tasksQueued: Int
        var duplicates: Int
        var workers: [Worker]
    }

    func statusJSON(_ now: UInt64) -> String {
        let doc = StatusDocument(
            phase: phase, round: round, tasksDone: tasksDone, tasksLeased: tasksLeased,
            tasksQueued: tasksQueued, duplicates: duplicates,
            workers: peers.keys.sorted(by: Self.order).compactMap { key in
                peers[key].map { .init(name: $0.name, leases: $0.leases.count, completed: $0.completed,
                                       lastHeardMsAgo: now - min(now, $0.lastHeard)) }
            })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return (try? String(decoding: encoder.encode(doc), as: UTF8.self)) ?? "{}"
    }
}
