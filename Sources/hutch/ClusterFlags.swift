import HutchJobs

/// What `hutch coordinator` and `hutch run` share: every `hutch trace` flag (no --out: each
/// command names its directory), the `hutch plan` allocation flags, and the job they describe.
enum ClusterFlags {
    static let flags: [Arguments.Flag] = TraceFlags.flags + PlanFlags.flags.filter { flag in
        !TraceFlags.flags.contains { $0.name == flag.name }
    }

    static let verify = Arguments.Flag.option("verify-fraction", "F",
        "run this fraction (0-1) of the tasks on two workers and accept only bit-identical results; needs 2 workers, 3 to settle a mismatch (default 0)")

    /// The cluster job the flags describe; a budget flag asks for the plan and the quantized model too.
    static func job(_ arguments: Arguments, stateDirectory: String, bind: String) throws -> ClusterJob {
        let threads = try SharedFlags.threads(arguments)
        let tasksPerWorker = try arguments.int("tasks-per-worker", range: 1...10_000)
        let verifyFraction = try arguments.double("verify-fraction") ?? 0
        let options = try TraceFlags.options(arguments)
        var job = ClusterJob(inputs: try DataFlags.inputs(arguments), options: options, stateDirectory: stateDirectory, bind: bind,
                             announce: { print($0) })
        if PlanFlags.budgetGiven(arguments) { job.plan = (try PlanFlags.request(arguments), try PlanFlags.solver(arguments)) }
        job.planFlags = PlanFlags.given(arguments)
        (job.threads, job.tasksPerWorker, job.verifyFraction) = (threads, tasksPerWorker, verifyFraction)
        job.activations = arguments.has("activations")
        job.measured = arguments.has("measured")
        return job
    }
}
