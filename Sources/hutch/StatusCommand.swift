import Foundation
import HutchCluster
import HutchJobs
import HutchWire

/// `hutch status`: asks a running coordinator for its state (STATUS_REQUEST / STATUS).
struct StatusCommand: Command {
    static let name = "status"
    static let summary = "show a running coordinator's phase, tasks, workers and ETA"
    static let usage = "--connect tcp://HOST:PORT [--curve-key W.key --coordinator-key C.pub] [--json] [--timeout SECONDS]"
    static let flags: [Arguments.Flag] = ClusterSecurity.clientFlags(around: [
        .toggle("json", "print the coordinator's JSON document as is"),
        .option("timeout", "SECONDS", "how long to wait for an answer (default 5)"),
    ])

    static func run(_ arguments: Arguments) throws {
        let endpoint = try arguments.endpoint("connect")
        let timeout = try arguments.double("timeout") ?? 5
        guard timeout > 0, timeout <= 3600 else { throw CommandFailure(.usage, "--timeout must be in (0, 3600] seconds") }
        let curve = try ClusterSecurity.client(arguments)
        let context = try ZMQContext()
        let socket = try ZMQSocket.statusDealer(context, connect: endpoint, curve: curve)
        defer { socket.close() }
        try socket.send(.statusRequest)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let left = Int(max(1, deadline.timeIntervalSinceNow * 1000))
            guard let incoming = try socket.receiveHWP(timeoutMs: left) else { break }
            guard case .message(_, .status(let report)) = incoming else { continue }
            print(arguments.has("json") ? report.json : try describeStatus(report.json))
            return
        }
        throw CommandFailure(.io, "no answer from a coordinator at \(endpoint) within \(timeout) s; is `hutch coordinator` running there\(curve == nil ? " (with CURVE, give --curve-key and --coordinator-key)" : ", and is this client's public key in its --authorized-keys")?")
    }

    static func describeStatus(_ json: String) throws -> String {
        guard let doc = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            throw CommandFailure(.io, "the coordinator's STATUS is not a JSON object")
        }
        // unknown before the phase's first result
        let eta = (doc["eta_seconds"] as? Double).map { "ETA " + ProgressReporter.clock($0) } ?? "ETA unknown"
        let rate = (doc["tasks_per_second"] as? Double).map { String(format: ", %.2f tasks/s", $0) } ?? ""
        var lines = ["phase \(doc["phase"] ?? "?"), round \(doc["round"] ?? "?"): tasks \(doc["tasks_done"] ?? 0) done, \(doc["tasks_leased"] ?? 0) leased, \(doc["tasks_queued"] ?? 0) queued\(rate); \(eta)"]
        for w in doc["workers"] as? [[String: Any]] ?? [] {
            lines.append("  worker \(w["name"] ?? "?"): \(w["completed"] ?? 0) done (\(w["tasks_per_second"] ?? 0) tasks/s), \(w["leases"] ?? 0) leased, last heard \(w["last_heard_ms_ago"] ?? "?") ms ago")
        }
        for layer in doc["layers"] as? [[String: Any]] ?? [] {
            guard let probes = layer["probes"] as? Int else { continue }
            let rse = (layer["relative_standard_error"] as? Double).map { String(format: "%.3f", $0) } ?? "-"
            lines.append("  layer \(layer["index"] ?? "?"): \(probes) probes, relative s.e. \(rse)")
        }
        return lines.joined(separator: "\n")
    }
}
