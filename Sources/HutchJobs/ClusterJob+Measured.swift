import HutchAllocation
import HutchClusterCore
import HutchModel
import HutchSensitivity

extension ClusterJob {
    /// `--measured` on the cluster: refused, as `hutch trace` refuses it, before anything is served.
    static func checkMeasured(options: TraceOptions, dataset: Dataset) throws {
        try TraceJob.checkMeasured(bits: options.bits)
        _ = try dataset.classLabels(for: "--measured")
    }

    /// The measured objective from the workers' measured-loss tasks, written into the report
    /// as `hutch trace --measured` writes it (the same cells, summed in batch order).
    public static func addMeasured(_ report: inout SensitivityReport, core: CoordinatorCore, job: SensitivityJob) throws {
        guard let (base, increases) = core.measuredCells?.result(examples: job.samples) else {
            throw CommandFailure(.internalError, "the coordinator finished without every measured loss")
        }
        report.setMeasured(baseLoss: base, increases: increases)
    }
}
