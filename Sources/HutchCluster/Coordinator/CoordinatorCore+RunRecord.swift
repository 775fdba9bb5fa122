/// What run.json records (`hutch run` / `hutch coordinator`): the workers connected now and
/// the task count when the current phase began.
extension CoordinatorCore {
    public var workerNames: [String] {
        peers.keys.sorted(by: Self.order).compactMap { peers[$0]?.name }
    }

    /// Tasks done before the current phase (its work starts at `phaseStartMs`).
    public var tasksDoneAtPhaseStart: Int { doneAtPhaseStart }
}
