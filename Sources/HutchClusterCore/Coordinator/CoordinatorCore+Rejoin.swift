import HutchWire

/// A worker that says HELLO again keeps its leases (wire.md 5.1), but it may not hold all of
/// them: a TASK sent before its HELLO was read went to the old connection (lost with it) or
/// reached the new one before WELCOME (the worker ignores it then), and a result it finished
/// during the handshake is not sent. So each kept lease's TASK is sent again after the WELCOME;
/// the worker ignores one whose lease it still holds. Found in the real shell: the coordinator
/// paused between the phases past the liveness window, both workers reconnected, and the quantize
/// phase's first TASKs, sent before their HELLOs were read, sat on the books until their leases
/// expired (ten minutes) while the workers idled.
extension CoordinatorCore {
    mutating func resendKeptLeases(_ peer: [UInt8], _ now: UInt64, _ out: inout [CoordinatorAction]) {
        for id in (peers[peer]?.leases ?? []).sorted() {
            // a RESULT blob being pulled: the worker has finished the task
            guard let state = tasks[id], !state.done, let lease = state.lease, lease.peer == peer, pulls[lease.id] == nil else { continue }
            send(peer, .task(lease.assignment), now, &out)
        }
    }
}
