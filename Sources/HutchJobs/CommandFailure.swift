/// Exit codes of every `hutch` command; the README's "Exit codes" table mirrors this list.
public enum ExitCode: Int32, Sendable {
    case ok = 0
    case internalError = 1      // a bug in hutch: please report it
    case usage = 2              // unknown command or flag, missing or malformed flag value
    case io = 3                 // a file could not be read or written
    case invalidModel = 4       // corrupt or unsupported ONNX model
    case invalidData = 5        // corrupt data file, wrong shape or dtype, bad labels, NaN/Inf, empty
    case invalidSensitivity = 6 // sensitivity.json / plan.json missing fields or invalid values
    case infeasible = 7         // no bit allocation satisfies the budgets
    case cluster = 8            // a cluster job failed (a task failed 5 times or was reported poison twice, wire.md 5.4; all local workers died), or a worker was sent away or lost its parent
    case keys = 9               // a CURVE key or authorized-keys file is missing, malformed, or readable by others
    case interrupted = 10       // SIGINT/SIGTERM stopped a coordinator (journal synced; rerun to resume) or a finetune (best model written)
    case state = 11             // the state directory holds another job, a newer journal format, or is in use
    case memory = 12            // --memory is too small for one Hutchinson chunk at one probe per call
}

/// An error that already knows its one-line message and its exit code.
public struct CommandFailure: Error {
    public var code: ExitCode
    public var message: String
    public init(_ code: ExitCode, _ message: String) {
        self.code = code
        self.message = message
    }
}
