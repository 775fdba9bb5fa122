import HutchAllocation
import HutchModel
import HutchSensitivity

extension TraceJob {
    /// `hutch trace --measured`: the measured loss increase of every layer at every width of
    /// `--bits`, into the report beside the second-order values; per batch of `job`, as a
    /// cluster's tasks compute it.
    func addMeasured(_ report: inout SensitivityReport, graph: Graph, dataset: Dataset, job: SensitivityJob) throws {
        try Self.checkMeasured(bits: options.bits)
        log("measured: \(graph.quantizableLayers.count) layers × \(options.bits.count) widths, one forward pass over \(job.samples) examples each")
        let runner = try TaskRunner(graph: graph, dataset: dataset, job: job)
        let (base, increases) = try MeasuredLossIncrease(runner: runner, bits: options.bits).run()
        report.setMeasured(baseLoss: base, increases: increases)
    }

    /// `--measured` quantizes each layer at the widths of `--bits`: refused without any.
    static func checkMeasured(bits: [Int]) throws {
        guard !bits.isEmpty else {
            throw CommandFailure(.usage, "--measured quantizes each layer at the widths of --bits; give --bits (not 'none')")
        }
    }
}
