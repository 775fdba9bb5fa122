import HutchAllocation

/// The job (from sensitivity.json) and the run (from run.json) as key-value tables.
extension ReportBuilder {
    static func jobTable(_ s: SensitivityReport) -> String {
        let job = s.job
        var rows = row("model", "<span class=\"digest\">\(escape(job.modelDigest))</span>")
        rows += row("data", job.dataDigest.map { "<span class=\"digest\">\(escape($0))</span>" } ?? "the embedded example")
        rows += row("examples", grouped(job.samples) + (job.batchSize.map { " (batches of \($0))" } ?? ""))
        rows += row("method", escape(job.method) + (job.mode.map { ", \(escape($0)) probes" } ?? ""))
        let probes = s.layers.compactMap(\.probes)
        if !probes.isEmpty, let low = probes.min(), let high = probes.max() {
            rows += row("probes per layer", low == high ? "\(low)" : "\(low)–\(high)")
        } else {
            rows += row("probes per layer", "none (exact traces)")
        }
        rows += row("seed", job.seed.map { "\($0)" } ?? "–")
        if let q = s.quantization {
            rows += row("quantization errors", escape(q.scheme) + " at " + q.bits.map(String.init).joined(separator: ", ") + " bits")
        }
        let parameters = s.layers.reduce(0) { $0 + $1.parameters }
        rows += row("parameters", grouped(parameters) + " in \(s.layers.count) layers")
        rows += row("tool version", escape(job.toolVersion))
        return "<div><h2>Job</h2><table id=\"job-metadata\" class=\"kv\">\(rows)</table></div>"
    }

    static func runTable(_ run: RunRecord?) -> String {
        guard let run else {
            return "<div><h2>Run</h2><table id=\"run-metadata\" class=\"kv\">\(row("run", "no run.json (made by <code>hutch trace</code> / <code>hutch plan</code>)"))</table></div>"
        }
        var rows = row("command", "hutch " + escape(run.command) + " " + escape(run.hutchVersion))
        var workers = "\(run.workers.count) joined (\(run.workersExpected) expected)"
        if !run.workers.isEmpty {
            let names = run.workers.prefix(12).map(escape).joined(separator: ", ")
            workers += ": " + names + (run.workers.count > 12 ? ", …" : "")
        }
        rows += row("workers", workers)
        rows += row("tasks", grouped(run.tasks) + ", \(grouped(run.duplicates)) duplicate result\(run.duplicates == 1 ? "" : "s") ignored")
        rows += row("started", escape(run.startedAt))
        rows += row("finished", escape(run.finishedAt))
        rows += row("wall time", duration(run.wallSeconds))
        for phase in run.phases {
            let tasks = phase.tasks > 0 ? " (\(grouped(phase.tasks)) tasks)" : ""
            rows += row("· " + escape(phase.name), duration(phase.seconds) + tasks)
        }
        return "<div><h2>Run</h2><table id=\"run-metadata\" class=\"kv\">\(rows)</table></div>"
    }
}
