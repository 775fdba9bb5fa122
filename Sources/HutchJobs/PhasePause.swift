import Foundation

/// A test knob, read here only: `HUTCH_TEST_PHASE_PAUSE_MS=N` makes the coordinator spend N ms
/// more between the sensitivity and the quantize phase. Plain `N` pauses inside the step that
/// keeps the workers' links alive (they must not reconnect); `N:silent` pauses after it without
/// serving, as a coordinator process that is frozen (SIGSTOP, swapping) right before it starts
/// the quantize phase, so every worker finds it silent past the liveness window and reconnects,
/// and the phase's first TASKs leave before their new HELLOs are read (wire.md 5.1, 5.3). Process tests use it to force
/// what a large model does between the phases; unset, nothing changes.
struct PhasePause {
    var ms: UInt32
    var silent: Bool

    static let variable = "HUTCH_TEST_PHASE_PAUSE_MS"

    /// The pause the environment asks for (nil when unset or not of the form above).
    static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> PhasePause? {
        guard let text = environment[variable] else { return nil }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard let ms = UInt32(parts[0]), parts.count == 1 || (parts.count == 2 && parts[1] == "silent") else { return nil }
        return PhasePause(ms: ms, silent: parts.count == 2)
    }

    func sleep() { Thread.sleep(forTimeInterval: Double(ms) / 1000) }
}
