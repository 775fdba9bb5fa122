import HutchWire

/// Why a journal record does not fit the job being resumed (its checksum was fine: a journal
/// of another job under the same digest, or a bug).
public struct ReplayError: Error, Sendable, CustomStringConvertible {
    public let description: String
}

/// Resuming from the journal: records go through the same acceptance path as live results, in
/// journal order, so the rounds open and the task ids come out exactly as in the first run.
extension CoordinatorCore {
    /// The routing id replayed results are accepted from; no worker has it.
    static let journalPeer: [UInt8] = Array("journal".utf8)

    /// Rebuilds state from one journal record, before any event. Returns what the record set
    /// off: `.phaseComplete` (the caller solves the plan and calls `startQuantize`, as in a live
    /// run, before replaying further records) or `.finish`; nothing to send or persist; a `.log`
    /// when a quantized layer the record names is not in the layer store (the task runs again).
    public mutating func replay(_ record: JournalRecord) throws(ReplayError) -> [CoordinatorAction] {
        var out: [CoordinatorAction] = []
        start(&out)
        guard case .result(let r) = record else { return [] }
        if let passedOver = unstoredReplay(r) { return passedOver }
        guard !finished else { throw ReplayError(description: "journal result of task \(r.taskID) follows the end of the job") }
        guard let state = tasks[r.taskID] else {
            throw ReplayError(description: "journal result of task \(r.taskID) names no task of this job in phase \(phase) (\(nextTaskID - 1) tasks so far)")
        }
        guard !state.done else { throw ReplayError(description: "journal result of task \(r.taskID) repeats an earlier record") }
        accept(Self.journalPeer, r, 0, &out)
        guard tasks[r.taskID]?.done == true else {
            let why = out.compactMap { if case .log(let line) = $0 { line } else { nil } }.last ?? "rejected"
            throw ReplayError(description: "journal result of task \(r.taskID) \(state.task) does not fit this job: \(why)")
        }
        replayed += 1
        return out.filter {
            switch $0 {
            case .phaseComplete, .finish: true
            case .send, .disconnect, .persist, .log: false
            }
        }
    }
}
