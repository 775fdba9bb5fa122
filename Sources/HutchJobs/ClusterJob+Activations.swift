import HutchAutodiff
import HutchClusterCore
import HutchModel
import HutchSensitivity

extension ClusterJob {
    /// The activations' quantization errors (forward passes over the data the coordinator
    /// calibrates on anyway). Measured before serving: between two phases the coordinator sends
    /// no heartbeats, and on a large model this would outlast the workers' liveness window.
    static func activationErrors(job: SensitivityJob, graph: Graph, dataset: Dataset, options: TraceOptions) throws -> [ValueID: [Int: Double]] {
        try ActivationQuantizationErrors.measure(try Executor<Float>(graph: graph), values: ActivationSensitivity.values(of: graph),
                                                 dataset: dataset.prefix(job.samples), bits: options.bits, batchSize: job.batchSize)
    }

    /// The activation sensitivities of `hutch trace --activations`: the traces from the workers'
    /// activation tasks and `errors`, combined as one process combines them.
    static func activationSensitivities(_ core: CoordinatorCore, job: SensitivityJob, graph: Graph,
                                        errors: [ValueID: [Int: Double]]) throws -> [ValueID: ActivationSensitivity] {
        guard let cells = core.activationCells, cells.isComplete else {
            throw CommandFailure(.internalError, "the coordinator finished without every activation trace")
        }
        return try ActivationSensitivity.combine(graph: graph, values: ActivationSensitivity.values(of: graph), cells: cells,
                                                 batchCounts: (0..<job.batchCount).map { job.examples(ofBatch: $0).count }, errors: errors)
    }
}
