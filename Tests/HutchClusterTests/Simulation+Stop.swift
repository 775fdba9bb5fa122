import HutchCluster
import HutchWire

/// Graceful coordinator stop (SIGTERM) and restart, as CoordinatorServer and CoordinatorCommand do
/// it: the journal is synced, `abort` sends DISCONNECT(shutdown) to every worker with a session,
/// the socket keeps serving messages for `flushMs` (no ticks; the finished core only answers), the
/// records of what it accepted meanwhile are synced too, and the process exits. A new process
/// (next epoch) replays the whole journal and is reachable `downMs` after the signal.
extension Simulation {
    /// CoordinatorServer.flush: how long a stopped coordinator keeps serving.
    static let flushMs: UInt64 = 300

    /// A stop planned for `t`, or the end of a stopped coordinator's flush at `t`. A replay that
    /// fails fails the run.
    mutating func stopCoordinatorIfPlanned(_ t: UInt64) {
        for case .coordinatorStop(let at, _) in plan?.faults ?? [] {
            if at == t, outcome == nil, !stopped {
                stopped = true
                logs.append("c: SIGTERM at \(t) ms")
                apply(coordinator.abort("interrupted by signal 15 (SIGTERM)"))
            } else if at + Self.flushMs == t, stopped {
                do {
                    try crashCoordinator(syncWindowMs: 0, event: "stopped", make: makeCoordinator)
                } catch {
                    outcome = .failed("the coordinator restarted after SIGTERM could not replay its journal: \(error)")
                }
            }
        }
    }
}
