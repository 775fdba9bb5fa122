import Foundation
import HutchJobs

/// `hutch plan`: reads sensitivity.json, solves the bit allocation, writes plan.json
/// (and optionally the Pareto frontier as JSON and SVG).
struct PlanCommand: Command {
    static let name = "plan"
    static let summary = "choose a bit width per layer under size / BOPs / latency budgets"
    static let usage = """
        --sensitivity S.json [--bits 2,3,4,5,6,8] [--size-mb X | --avg-bits X | --size-frac F] [--bops-g X] \
        [--latency-ms X --latency-table T] [--objective hawq-v3|eigenvalue|trace|measured] [--check [--model M.onnx --data D.npz]] \
        [--solver exact|greedy] [--pin first,last=8,NODE=B] [--tie auto|none|A=B,...] [--activation-bits 8 | --act-bits 4,8] --out plan.json \
        [--frontier frontier.json] [--svg frontier.svg]
        """
    static let flags: [Arguments.Flag] = [
        .option("sensitivity", "PATH", "sensitivity.json from `hutch trace` (required)"),
    ] + PlanFlags.flags + [
        .option("model", "PATH", "the ONNX model of the sensitivity file: recompute quantization errors for the candidate widths"),
        .option("out", "PATH", "where to write plan.json (required)"),
        .option("frontier", "PATH", "also write the size-vs-Ω Pareto frontier as JSON"),
        .option("svg", "PATH", "also draw the frontier, uniform-precision points and the plan as SVG"),
        .toggle("check", "also print predicted (second-order) against measured loss change per layer and width, and for the plan (needs `hutch trace --measured`)"),
    ] + DataFlags.flags(data: "with --check and --model: also measure the whole plan's loss change on this .npz (x, y)") + [
    ]

    static func run(_ arguments: Arguments) throws {
        let sensitivity = try arguments.required("sensitivity")
        let out = try arguments.required("out")
        var job = PlanJob(sensitivity: sensitivity, request: try PlanFlags.request(arguments), out: out)
        job.solver = try PlanFlags.solver(arguments)
        job.model = arguments.string("model")
        (job.frontier, job.svg) = (arguments.string("frontier"), arguments.string("svg"))
        job.check = arguments.has("check")
        job.checkData = try DataFlags.source(arguments)
        job.checkLoss = try DataFlags.loss(arguments)
        if job.checkLoss != nil && job.checkData == nil {
            throw CommandFailure(.usage, "--loss in hutch plan names the head of the --check data; give --data (or --inputs/--labels) too")
        }
        if job.checkData != nil && !(job.check && job.model != nil) {
            throw CommandFailure(.usage, "--data (or --inputs/--labels) in hutch plan measures the whole plan for --check; give --check and --model too")
        }
        let plan = try job.run()
        let t = plan.totals
        var line = "plan: Ω \(String(format: "%.6g", t.omega)), \(String(format: "%.4g", t.sizeMegabytes)) MB of weights "
        line += "(\(String(format: "%.3g", t.averageBits)) bits average)"
        if let bops = t.bops { line += ", \(String(format: "%.4g", bops / 1e9)) GBOPs" }
        if let latency = t.latencyMs { line += ", \(String(format: "%.4g", latency)) ms" }
        line += "; solver \(plan.solver.name) (\(plan.solver.algorithm)"
        line += plan.solver.provenOptimal ? ", proven optimal)" : ", gap ≤ \(String(format: "%.3g", plan.solver.relativeGap * 100)) %)"
        print(line + " → \(out)")
    }
}
