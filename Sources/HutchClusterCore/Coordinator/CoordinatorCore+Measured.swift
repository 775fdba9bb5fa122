import HutchSensitivity
import HutchWire

/// Measured-loss tasks (`--measured`, `MeasuredCells`): the float model's and each layer's loss
/// sums at each width, per batch. Independent of the traces, so they are queued at the start
/// with the quantization errors; the float model's sums are tasks of their own. Each cell's
/// batches are split only as far as needed to give every worker work (`TaskSizing`).
extension CoordinatorCore {
    var measuredDone: Bool { measuredBits == nil || (measuredCells != nil && measuredOpen == 0) }

    mutating func queueMeasured() {
        guard let bits = measuredBits, measuredCells == nil else { return }
        let job = spec.job
        let cells = MeasuredCells(layers: job.layerCount, bits: bits, batches: job.batchCount)
        // forward passes only: a quarter of the Hessian-vector product TaskSizing costs per MAC
        let macs = TaskSizing.roundMACs(exampleProbes: TaskSizing.product(cells.cellCount, job.samples), macsPerExample: schedule.macsPerExample)
        let target = TaskSizing.tasks(workers: schedule.workers, tasksPerWorker: schedule.tasksPerWorker,
                                      roundMACs: macs.map { $0 / TaskSizing.hvpCostFactor },
                                      cells: TaskSizing.product(cells.cellCount, job.batchCount))
        let tasks = cells.tasks(batchesPerTask: TaskSizing.batchesPerTask(batchCount: job.batchCount, unsplitTasks: cells.cellCount,
                                                                          targetTasks: target))
        measuredCells = cells
        enqueue(tasks.map { .measured($0) })
        measuredOpen = tasks.count
    }

    mutating func acceptMeasured(_ peer: [UInt8], _ r: WireTaskResult, _ task: MeasuredTask, _ now: UInt64, _ out: inout [CoordinatorAction]) {
        acceptCellResult(\.measuredCells, open: \.measuredOpen, peer, r, task, batches: task.batches, decode: MeasuredBodies.decodeResult, now, &out)
    }
}
