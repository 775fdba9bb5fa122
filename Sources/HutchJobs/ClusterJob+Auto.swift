import HutchSensitivity

extension ClusterJob {
    /// `auto` for a cluster job, decided once: the choice recorded in job.json at the job's first
    /// start if there is one, else `decide` (the calibration and `MethodChoice` of `hutch trace`).
    /// Returns the options to run and the choice to record when `decide` made a new one.
    static func resolveAuto(_ options: TraceOptions, recorded: JobDocument.AutoChoice?,
                            decide: () throws -> (TraceOptions, reason: String?)) throws
        -> (options: TraceOptions, newChoice: JobDocument.AutoChoice?) {
        guard options.method == .auto else { return (options, nil) }
        if let recorded {
            guard let method = TraceOptions.Method(rawValue: recorded.method), method != .auto else {
                throw CommandFailure(.state, "job.json's auto_choice.method '\(recorded.method)' is not a trace method; the state directory is damaged")
            }
            var resolved = options
            resolved.method = method
            return (resolved, nil)
        }
        let (resolved, reason) = try decide()
        guard let reason, resolved.method != .auto else { return (resolved, nil) }
        return (resolved, JobDocument.AutoChoice(method: resolved.method.rawValue, reason: reason))
    }
}
