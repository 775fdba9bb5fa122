/// A coordinator that works between the phases without serving (the plan solved on a large
/// model, a process frozen by SIGSTOP or swapping), as `HUTCH_TEST_PHASE_PAUSE_MS=N:silent` makes
/// the real one do: from its first phase end it neither ticks nor reads for `ms`; messages to it
/// wait in its socket. Past the liveness window the workers reconnect and say HELLO again. When
/// the pause ends it starts the quantize phase at once (its TASKs go out before it reads the
/// waiting HELLOs, and reach each worker before its WELCOME), then serves what waited.
extension Simulation {
    /// Starts the planned pause at a phase end; false when none is planned (or it was taken).
    mutating func pauseBetweenPhases() -> Bool {
        guard !pauseTaken, let ms = plan?.faults.lazy.compactMap({ if case .coordinatorPause(let ms) = $0 { ms } else { nil } }).first else {
            return false
        }
        pauseTaken = true
        pausedUntil = now + ms
        logs.append("c: pauses \(ms) ms between the phases at \(now) ms")
        return true
    }

    mutating func endPauseIfDue(_ t: UInt64) {
        guard let until = pausedUntil, until <= t else { return }
        pausedUntil = nil
        startQuantizePhase()
    }
}
