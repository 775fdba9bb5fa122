import Foundation
import Synchronization

/// SIGINT / SIGTERM end a cluster job cleanly: the journal is synced, workers get DISCONNECT
/// shutdown (they keep reconnecting, so a restarted coordinator finds them), exit code 10.
enum Interruption {
    /// The last SIGINT/SIGTERM received (0: none); set by the signal handler.
    static let receivedSignal = Atomic<Int32>(0)

    static func installHandlers() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig) { number in Interruption.receivedSignal.store(number, ordering: .relaxed) }
        }
    }

    /// Why the job must stop, once a signal came; nil otherwise.
    static func reason() -> String? {
        let number = receivedSignal.load(ordering: .relaxed)
        guard number != 0 else { return nil }
        return "interrupted by signal \(number) (\(number == SIGINT ? "SIGINT" : "SIGTERM"))"
    }
}
