/// What run.json records (`hutch run` / `hutch coordinator`): the workers connected now and
/// the task count when the current phase began.
extension CoordinatorCore {
    /// Name and instance (random per worker process) of every connected worker.
    public var connectedWorkers: [(name: String, instance: UInt64)] {
        peers.keys.sorted(by: Self.order).compactMap { key in peers[key].map { ($0.name, $0.instance) } }
    }

    /// Tasks done before the current phase (its work starts at `phaseStartMs`).
    public var tasksDoneAtPhaseStart: Int { doneAtPhaseStart }
}

extension CoordinatorCore {
    /// Peak resident bytes of each worker process (by instance) that reported one.
    public var workerPeakResidentBytes: [UInt64: UInt64] { peakResidentBytes }

    /// Keeps the worker's reported peak and takes it off the result (it is not part of it).
    mutating func notePeak(_ peer: [UInt8], _ result: inout WireTaskResult) {
        defer { result.peakResidentBytes = nil }
        guard let peak = result.peakResidentBytes, let instance = peers[peer]?.instance else { return }
        peakResidentBytes[instance] = max(peakResidentBytes[instance] ?? 0, peak)
    }
}
