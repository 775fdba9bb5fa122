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
