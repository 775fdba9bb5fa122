import Foundation
import HutchClusterCore

/// Work between two phases (assembling the traces, solving the plan, writing files) can outlast
/// the workers' liveness window; a coordinator that sent nothing that long would be taken for
/// dead and every worker would reconnect (wire.md 5.3). So the work runs on its own thread while
/// this one goes on serving the core: heartbeats, HELLOs, late duplicates.
extension CoordinatorServer {
    /// Runs `step` on a new thread and serves `core` on this one until it returns; returns its
    /// value or throws its error. `step` must not touch `core` or this server (it reads a copy
    /// taken before). Between phases the core has no task open, so serving it ends nothing; an
    /// end it reported anyway is kept for the next `run`.
    public func keepingAlive<T>(_ core: inout CoordinatorCore, log: (String) -> Void,
                                during step: @escaping () throws -> T) throws -> T {
        let work = SteppedWork(step)
        let thread = Thread { work.run() }
        thread.stackSize = 16 << 20   // room for the plan solver's recursion, as on the main thread
        thread.start()
        let tickMs = tickInterval(core)
        var nextTick = MonotonicClock.nowMs + tickMs
        while !closed, !work.isDone {
            let (actions, _) = try turn(&core, nextTick: &nextTick, tickMs: tickMs, log: log)
            if let stop = try perform(actions, log: log) { pendingStop = stop }
        }
        return try work.wait()
    }
}

/// A step run on another thread and its result. Unchecked: `step` is called on that thread
/// only, and the caller reads the result after `wait`, under the condition's lock.
final class SteppedWork<T>: @unchecked Sendable {
    private let step: () throws -> T
    private var result: Result<T, any Error>?
    private let condition = NSCondition()

    init(_ step: @escaping () throws -> T) { self.step = step }

    func run() {
        let outcome = Result { try step() }
        condition.lock(); result = outcome; condition.broadcast(); condition.unlock()
    }

    var isDone: Bool {
        condition.lock(); defer { condition.unlock() }
        return result != nil
    }

    func wait() throws -> T {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let result { return try result.get() }
            condition.wait()
        }
    }
}
