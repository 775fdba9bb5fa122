/// The backstop of credit accounting (wire.md 11.4). A lost TASK or RESULT is covered by the
/// lease's expiry, but a lost CREDIT, or a lost late RESULT of a task another worker completed,
/// has no lease left to expire, and its unit never comes back. Found by the simulator's soak: a
/// worker could end up with no lease and no credit while tasks waited, for good. Such a worker
/// gets one unit after a liveness window; at worst it briefly holds one task more than its slots.
extension CoordinatorCore {
    mutating func resupply(_ now: UInt64, _ out: inout [CoordinatorAction]) {
        guard !queue.isEmpty, !finished else { starvedSince.removeAll(); return }
        for key in peers.keys.sorted(by: Self.order) {
            guard let p = peers[key], p.credit == 0, p.leases.isEmpty else { starvedSince[key] = nil; continue }
            let since = starvedSince[key] ?? now
            starvedSince[key] = since
            if now - min(now, since) >= UInt64(config.liveness) * UInt64(p.heartbeatMs) {
                peers[key]?.credit = 1
                starvedSince[key] = nil
                out.append(.log("worker \(p.name) held no task and no credit for \(now - since) ms while tasks waited; granted one (a CREDIT was lost)"))
            }
        }
        starvedSince = starvedSince.filter { peers[$0.key] != nil }
    }
}
