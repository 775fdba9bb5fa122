/// Maps any error to its one-line message and exit code. Module errors are mapped here, in one
/// place, so that modules stay free of CLI concerns.
func describe(_ error: Error) -> CommandFailure {
    if let failure = error as? CommandFailure { return failure }
    return CommandFailure(.internalError, "\(error)")
}
