import HutchCluster
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
    static func job(_ arguments: Arguments, stateDirectory: String, bind: String, expectedWorkers: Int,
                    localWorkers: LocalWorkers?, curve: CurveServerConfig?) throws -> ClusterJob {
        let threads = try arguments.int("threads", range: 1...1024)
        let tasksPerWorker = try arguments.int("tasks-per-worker", range: 1...10_000)
        let verifyFraction = try arguments.double("verify-fraction") ?? 0
        let options = try TraceFlags.options(arguments)
        let inputs = try TraceFlags.inputs(arguments)
        let plan = PlanFlags.budgetGiven(arguments)
            ? ClusterJob.PlanStep(request: try PlanFlags.request(arguments), solver: try PlanFlags.solver(arguments)) : nil
        return ClusterJob(inputs: inputs, options: options, plan: plan, planFlags: PlanFlags.given(arguments),
                          stateDirectory: stateDirectory, bind: bind, expectedWorkers: expectedWorkers, tasksPerWorker: tasksPerWorker,
                          verifyFraction: verifyFraction, threads: threads, localWorkers: localWorkers, curve: curve,
                          announce: { print($0) })
    }
}
