import HutchWire

/// Redundant execution (`CoordinatorConfig.verifyFraction`): a deterministic sample of tasks, by a
/// hash of the task id, is run by two different worker processes and counts only when both results
/// are bit-identical. On a mismatch the task runs again on yet another worker; the first result
/// that agrees with an earlier one is accepted, and every worker whose result it contradicts gets
/// a strike (quarantine at maxStrikes). This is what catches a worker returning plausible wrong
/// numbers, which no validation can see; it costs running the sample twice, and a mismatch needs a
/// third worker to be resolved.
extension CoordinatorCore {
    /// One worker process's result of a sampled task that no other result has confirmed yet.
    struct Candidate: Sendable {
        var instance: UInt64
        var name: String
        var kind: TaskKind
        var body: [UInt8]
        var values: [UInt64]
    }

    /// Different results of one task before it is given up (the job fails).
    static let maxCandidates = 4

    /// Whether task `id` is in the sample: a SplitMix64 hash of the id against the fraction (the same
    /// tasks on every run and after a restart).
    public func isVerified(_ id: UInt64) -> Bool {
        guard config.verifyFraction > 0 else { return false }
        guard config.verifyFraction < 1 else { return true }
        var z = id &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Double(z >> 11) * 0x1p-53 < config.verifyFraction
    }

    /// Worker processes that must not run task `id` again (their result is waiting for a second).
    func verifiers(_ id: UInt64) -> Set<UInt64> { Set(verifications[id]?.map(\.instance) ?? []) }

    /// A valid result of task `r.taskID`, before it counts: true to accept it (not sampled, or it
    /// agrees bit for bit with another process's result), false when it was kept and the task
    /// must run on another worker.
    mutating func confirmed(_ peer: [UInt8], _ r: WireTaskResult, _ now: UInt64, _ out: inout [CoordinatorAction]) -> Bool {
        guard isVerified(r.taskID), let p = peers[peer] else { return true }
        var candidates = verifications[r.taskID] ?? []
        let bits = r.values.map(\.bitPattern)
        if let agreeing = candidates.first(where: { $0.instance != p.instance && $0.kind == r.kind && $0.body == r.body && $0.values == bits }) {
            verifications[r.taskID] = nil
            for wrong in candidates where wrong.instance != agreeing.instance {
                out.append(.log("task \(r.taskID): the result of \(wrong.name) differs from the one \(agreeing.name) and \(p.name) agree on"))
                penalize(wrong.instance, wrong.name, now, &out)
            }
            return true
        }
        if !candidates.contains(where: { $0.instance == p.instance }) {
            candidates.append(Candidate(instance: p.instance, name: p.name, kind: r.kind, body: r.body, values: bits))
        }
        verifications[r.taskID] = candidates
        if candidates.count >= 2 {
            let names = candidates.map(\.name).joined(separator: ", ")
            if candidates.count >= Self.maxCandidates {
                finish(.failed("task \(r.taskID) \(tasks[r.taskID].map { "\($0.task)" } ?? ""): \(candidates.count) workers (\(names)) returned \(candidates.count) different results; redundant execution found no two that agree"), &out)
                return false
            }
            out.append(.log("task \(r.taskID): results of \(names) differ; running it on another worker"))
        }
        // run it again on another process
        if tasks[r.taskID]?.lease?.peer == peer { endLease(r.taskID) } else if tasks[r.taskID]?.lease == nil { enqueue(r.taskID) }
        return false
    }
}
