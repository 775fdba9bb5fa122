/// The per-batch cells of an activation-trace measurement, filled by tasks in any order (on a
/// cluster) or in sequence (one process) and read in canonical order by
/// `ActivationSensitivity.combine`, so the sums are the same bits however the work was cut.
///
/// A task is a `SensitivityTask` of batches and probes (no layer groups: one pass serves every
/// activation). Its values are laid out [batch][probe][activation]: exact traces take no probes
/// and give each batch's sum over its examples of Tr(d^2 L_i / d a_i^2); Hutchinson gives
/// v^T (H v)_a of the batch's mean loss for each probe.
public struct ActivationCells: Sendable, Equatable {
    public let batches: Int
    /// Hutchinson probes; 0 for exact traces.
    public let probes: Int
    /// Activations measured (`ActivationSensitivity.values`).
    public let values: Int
    private var cells: [Double?]

    public init(batches: Int, probes: Int, values: Int) {
        (self.batches, self.probes, self.values) = (batches, probes, values)
        cells = Array(repeating: nil, count: batches * max(probes, 1) * values)
    }

    /// One task per batch and run of at most `probesPerTask` probes, batch after batch.
    public func tasks(probesPerTask: Int) -> [SensitivityTask] {
        let step = max(1, min(probesPerTask, probes))
        let probeRanges = probes == 0 ? [0..<0] : stride(from: 0, to: probes, by: step).map { $0..<min($0 + step, probes) }
        return (0..<batches).flatMap { b in probeRanges.map { SensitivityTask(batches: b..<(b + 1), probes: $0, groups: 0..<0) } }
    }

    /// Values a result of `task` holds; throws if the task is not one of this measurement.
    public func expectedValues(_ task: SensitivityTask) throws(SensitivityError) -> Int {
        guard !task.batches.isEmpty, task.batches.lowerBound >= 0, task.batches.upperBound <= batches, task.groups.isEmpty,
              probes == 0 ? task.probes.isEmpty : (!task.probes.isEmpty && task.probes.lowerBound >= 0 && task.probes.upperBound <= probes) else {
            throw SensitivityError(.invalidJob, "activation \(task) is not within \(batches) batches and \(probes) probes")
        }
        return task.batches.count * max(task.probes.count, 1) * values
    }

    /// Stores a task's values. A cell given twice must get the same bits (at-least-once delivery).
    public mutating func add(_ task: SensitivityTask, _ result: [Double]) throws(SensitivityError) {
        let expected = try expectedValues(task)
        guard result.count == expected else {
            throw SensitivityError(.invalidResult, "activation result of \(task) has \(result.count) values; expected \(expected)")
        }
        guard result.allSatisfy(\.isFinite) else {
            throw SensitivityError(.invalidResult, "activation result of \(task) has a non-finite value; the model's loss or curvature overflows on this data")
        }
        let width = max(task.probes.count, 1)
        var i = 0
        for b in task.batches {
            for p in (probes == 0 ? 0..<1 : task.probes) {
                for v in 0..<values {
                    let index = (b * max(probes, 1) + p) * values + v
                    if let old = cells[index], old.bitPattern != result[i].bitPattern {
                        throw SensitivityError(.invalidResult, "activation result of \(task) differs from an earlier result for the same cell (\(old) vs \(result[i])); tasks must be deterministic")
                    }
                    cells[index] = result[i]
                    i += 1
                }
            }
        }
        assert(i == task.batches.count * width * values)
    }

    public var isComplete: Bool { !cells.contains(nil) }

    /// Batches with a missing cell.
    public var missing: Int {
        let perBatch = max(probes, 1) * values
        return (0..<batches).filter { b in cells[(b * perBatch)..<((b + 1) * perBatch)].contains(nil) }.count
    }

    /// Cell (batch, probe, activation); probe 0 for exact traces. NaN while missing.
    public func value(batch b: Int, probe p: Int, value v: Int) -> Double {
        cells[(b * max(probes, 1) + p) * values + v] ?? .nan
    }
}
