import HutchClusterCore
import HutchWire

/// What redundant execution (verifyFraction 1) promises about a worker that returns plausible
/// wrong numbers (Corruption.plausible), read from CoordinatorCore+Verify.swift: a falsified RESULT
/// of a task still open, from a worker with a session, is either struck at once (a quantize body
/// the flipped bit made undecodable) or kept as a candidate; a candidate is struck when two other
/// processes agree on the task. Candidates and strikes live in the coordinator's memory, so the
/// promise is per coordinator process: every lie told to the one that finished the job was struck.
extension Simulation {
    struct Lies {
        /// Tasks lied about and kept as candidates, to be struck when settled.
        var candidates: Set<UInt64> = []
        /// Lies struck at once as invalid results.
        var struckAtOnce = 0
        var count: Int { candidates.count + struckAtOnce }
    }

    /// Called with a falsified message the coordinator just handled and what it answered.
    mutating func noteLie(_ worker: Int, _ message: WireMessage, duplicate: Bool, _ actions: [CoordinatorAction]) {
        guard case .result(let r) = message, !duplicate else { return }   // a done task ignores it
        let name = workers[worker].core.config.name
        let refused = actions.contains {
            if case .send(_, .error(let e)) = $0 { e.code == .notWelcomed } else { false }   // no session
        }
        guard !refused else { return }
        if actions.contains(where: { if case .log(let line) = $0 { line.hasPrefix("invalid result from \(name):") } else { false } }) {
            lies.struckAtOnce += 1
        } else {
            lies.candidates.insert(r.taskID)
        }
    }

    /// Nil if every candidate lie told to the current coordinator by the worker named `liar` was
    /// outvoted when its task was settled (the log line that precedes its strike); else the first
    /// that was not. (The strikes themselves show as the quarantine, at maxStrikes.)
    func missedLie(by liar: String) -> String? {
        let since = logs.lastIndex { $0.hasPrefix("c: crashed at") || $0.hasPrefix("c: stopped at") } ?? 0
        var struck: Set<UInt64> = []
        for line in logs[since...] where line.hasPrefix("c: task ") && line.contains(": the result of \(liar) differs") {
            if let id = UInt64(line.dropFirst(8).prefix { $0 != ":" }) { struck.insert(id) }
        }
        let missed = lies.candidates.subtracting(struck).sorted()
        return missed.first.map { "\(liar)'s wrong result of task \($0) was never outvoted (\(missed.count) of \(lies.candidates.count) lies)" }
    }
}
