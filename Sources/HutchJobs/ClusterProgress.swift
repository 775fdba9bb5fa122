import Foundation
import HutchCluster
import HutchClusterCore

/// The coordinator's progress on stderr: phase, tasks of that phase done out of how many, where
/// the others are, workers connected, and the rate and ETA once results have come in; one
/// rewritten line on a terminal, a log line every 10 s otherwise.
struct ClusterProgress {
    let terminal = isatty(STDERR_FILENO) == 1
    var last = Date.distantPast
    var lineOpen = false

    /// What one progress line says; taken from the core, formatted by `line` (pure, tested).
    struct Snapshot {
        var phase: String
        /// Adaptive Hutchinson only (rounds are added until the traces converge): the current
        /// round and the most there can be. Nil when the phase has a fixed set of tasks.
        var round: Int? = nil
        var roundsAtMost: Int? = nil
        var done: Int
        var leased: Int
        var queued: Int
        var workers: Int
        /// Tasks per second in this phase and seconds left for the known tasks; nil before the
        /// phase's first result (a rate of 0.0 says nothing).
        var rate: Double? = nil
        var etaSeconds: Double? = nil
    }

    static func snapshot(_ core: CoordinatorCore, now: UInt64) -> Snapshot {
        let schedule = core.schedule
        let adaptive = schedule.job.method.isSampled && schedule.options.probes == nil && core.phase == "sensitivity"
        let rounds = schedule.rounds
        let atMost = max(core.round, (rounds.limit + max(1, rounds.roundSize) - 1) / max(1, rounds.roundSize))
        return Snapshot(phase: core.phase, round: adaptive ? core.round : nil, roundsAtMost: adaptive ? atMost : nil,
                        done: core.tasksDone - core.tasksDoneAtPhaseStart, leased: core.tasksLeased, queued: core.tasksQueued,
                        workers: core.workerCount, rate: core.throughput(now: now), etaSeconds: core.etaSeconds(now: now))
    }

    /// e.g. "sensitivity: 3 of 11 tasks done, 2 on workers, 6 waiting; 2 workers connected;
    /// 4.1 tasks/s, ETA 0:02". The total is the phase's tasks known now: an adaptive round
    /// adds tasks when the previous one is done, which the round count says.
    static func line(_ s: Snapshot) -> String {
        let total = s.done + s.leased + s.queued
        var text = s.phase
        if let round = s.round { text += ", round \(round)" + (s.roundsAtMost.map { " of at most \($0)" } ?? "") }
        text += ": \(s.done) of \(total) task\(total == 1 ? "" : "s") done, \(s.leased) on workers, \(s.queued) waiting; "
        switch s.workers {
        case 0: text += s.done == 0 && s.leased == 0 ? "waiting for workers to connect" : "no worker connected"
        case 1: text += "1 worker connected"
        default: text += "\(s.workers) workers connected"
        }
        if let rate = s.rate {
            text += "; " + String(format: rate >= 1 ? "%.1f" : "%.2f", rate) + " tasks/s"
            if let eta = s.etaSeconds { text += ", ETA " + ProgressReporter.clock(eta) }
        }
        return text
    }

    mutating func update(_ core: CoordinatorCore) {
        let now = Date()
        guard now.timeIntervalSince(last) >= (terminal ? 0.2 : 10) else { return }
        last = now
        // the core's throughput and ETA, the numbers `hutch status` shows
        let text = Self.line(Self.snapshot(core, now: MonotonicClock.nowMs))
        if terminal {
            FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
            lineOpen = true
        } else {
            log("coordinator: " + text)
        }
    }

    /// Ends the progress line before a log line.
    mutating func clear() {
        if lineOpen { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        lineOpen = false
    }
}
