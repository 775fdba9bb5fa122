import HutchSensitivity
import HutchWire

/// What activation traces a job asks for: the activations measured (each quantizable layer's
/// input once) and the probes asked for (`--probes`; nil: as many as the weight traces used).
public struct ActivationRequest: Sendable, Hashable {
    public var values: Int
    public var probes: Int?
    public init(values: Int, probes: Int?) { (self.values, self.probes) = (values, probes) }
}

/// Activation-trace tasks (`ActivationCells`): queued when the weight traces are done, since a
/// Hutchinson measurement takes as many probes as they used (`ActivationSensitivity.probeCount`);
/// exact when the job is. One task per batch and run of `probesPerCall` probes, so each makes
/// the calls `hutch trace` makes.
extension CoordinatorCore {
    var activationsDone: Bool { activationRequest == nil || (activationCells != nil && activationOpen == 0) }

    mutating func queueActivations(_ out: inout [CoordinatorAction]) {
        guard let request = activationRequest, activationCells == nil else { return }
        let job = spec.job
        let probes = job.method == .exact ? 0
            : ActivationSensitivity.probeCount(asked: request.probes, weightProbes: schedule.estimates(aggregator).map { $0?.probes })
        let cells = ActivationCells(batches: job.batchCount, probes: probes, values: request.values)
        activationCells = cells
        let tasks = cells.tasks(probesPerTask: spec.probesPerCall)
        enqueue(tasks.map { .activation($0) })
        activationOpen = tasks.count
        out.append(.log("activation traces: \(tasks.count) task(s) queued (\(probes == 0 ? "exact" : "\(probes) probes"))"))
    }

    mutating func acceptActivation(_ peer: [UInt8], _ r: WireTaskResult, _ task: SensitivityTask, _ now: UInt64, _ out: inout [CoordinatorAction]) {
        acceptCellResult(\.activationCells, open: \.activationOpen, peer, r, task, batches: task.batches, decode: ActivationBodies.decodeResult, now, &out)
    }
}
