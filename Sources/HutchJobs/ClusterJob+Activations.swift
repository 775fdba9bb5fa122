import HutchAutodiff
import HutchClusterCore
import HutchModel
import HutchSensitivity

extension ClusterJob {
    /// The activation sensitivities of `hutch trace --activations`: the traces from the workers'
    /// activation tasks, the quantization errors measured here (forward passes over the data the
    /// coordinator calibrates on anyway), combined as one process combines them.
    static func activationSensitivities(_ core: CoordinatorCore, job: SensitivityJob, graph: Graph, dataset: Dataset,
                                        options: TraceOptions) throws -> [ValueID: ActivationSensitivity] {
        guard let cells = core.activationCells, cells.isComplete else {
            throw CommandFailure(.internalError, "the coordinator finished without every activation trace")
        }
        let used = dataset.prefix(job.samples)
        let values = ActivationSensitivity.values(of: graph)
        let errors = try ActivationQuantizationErrors.measure(try Executor<Float>(graph: graph), values: values, dataset: used,
                                                              bits: options.bits, batchSize: job.batchSize)
        return try ActivationSensitivity.combine(graph: graph, values: values, cells: cells,
                                                 batchCounts: (0..<job.batchCount).map { job.examples(ofBatch: $0).count }, errors: errors)
    }
}
