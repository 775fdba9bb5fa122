import HutchSensitivity
import HutchWire

/// Per-batch cells a cell task's RESULT values go into (activation traces, measured losses).
protocol CellTable {
    associatedtype Task: Equatable
    mutating func add(_ task: Task, _ values: [Double]) throws(SensitivityError)
}

extension ActivationCells: CellTable {}
extension MeasuredCells: CellTable {}

/// RESULTs of tasks that fill per-batch cells (activation traces, measured losses): the same
/// checks of kind, echo and example counts, and the same strike, confirmation and completion.
extension CoordinatorCore {
    /// Throws unless `r` is a sensitivity RESULT whose body (read by `decode`) echoes `task` and
    /// gives the job's example counts of `batches`.
    func checkCellResult<Task: Equatable>(_ r: WireTaskResult, _ task: Task, batches: Range<Int>,
                                          decode: ([UInt8]) throws(BodyError) -> (task: Task, exampleCounts: [Int])) throws(BodyError) {
        guard r.kind == .sensitivity else { throw BodyError("result of task \(r.taskID) has kind \(r.kind), not sensitivity") }
        let (echo, counts) = try decode(r.body)
        guard echo == task else { throw BodyError("result of task \(r.taskID) is for \(echo), the task is \(task)") }
        guard counts == batches.map({ spec.job.examples(ofBatch: $0).count }) else {
            throw BodyError("result of task \(r.taskID) gives example counts \(counts), not the job's")
        }
    }

    /// Strikes the worker if `checked` failed; else completes the task once the result is
    /// confirmed (CoordinatorCore+Verify.swift). True when the caller should keep its cells.
    mutating func settleCellResult(_ peer: [UInt8], _ r: WireTaskResult, _ checked: Result<Void, any Error>, _ now: UInt64,
                                   _ out: inout [CoordinatorAction]) -> Bool {
        if case .failure(let error) = checked {
            strike(peer, r.taskID, "\(error)", now, &out)
            return false
        }
        guard confirmed(peer, r, now, &out) else { return false }
        complete(r.taskID, peer)
        return true
    }

    /// One cell task's RESULT: checked, confirmed, added to the job's `cells`, its `open` count
    /// lowered, and the sensitivity phase completed when nothing is left.
    mutating func acceptCellResult<Cells: CellTable>(_ cells: WritableKeyPath<CoordinatorCore, Cells?>, open: WritableKeyPath<CoordinatorCore, Int>,
                                                     _ peer: [UInt8], _ r: WireTaskResult, _ task: Cells.Task, batches: Range<Int>,
                                                     decode: ([UInt8]) throws(BodyError) -> (task: Cells.Task, exampleCounts: [Int]),
                                                     _ now: UInt64, _ out: inout [CoordinatorAction]) {
        guard var table = self[keyPath: cells] else { return }
        let checked = Result {
            try checkCellResult(r, task, batches: batches, decode: decode)
            try table.add(task, r.values)
        }
        guard settleCellResult(peer, r, checked, now, &out) else { return }
        self[keyPath: cells] = table
        self[keyPath: open] -= 1
        completeSensitivity(&out)
    }
}
