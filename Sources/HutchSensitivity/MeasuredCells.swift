/// The measured objective's per-batch loss sums, filled by `MeasuredTask`s in any order and cut
/// (on a cluster) or in sequence (one process), and read in batch order by `result`, so the
/// numbers are the same bits however the work was cut into tasks.
///
/// Cell 0 is the float model; cell 1 + l·W + w is layer l at width `bits[w]` (W widths). Each
/// holds, per batch b, S_b = Σ_{i in b} ℓ_i (`CrossEntropySum`).
public struct MeasuredCells: Sendable, Equatable {
    public let layers: Int
    /// The widths of `--bits`, in the order given.
    public let bits: [Int]
    public let batches: Int
    private var sums: [Double?]

    public init(layers: Int, bits: [Int], batches: Int) {
        (self.layers, self.bits, self.batches) = (layers, bits, batches)
        sums = Array(repeating: nil, count: (1 + layers * bits.count) * batches)
    }

    /// The float model and every layer at every width.
    public var cellCount: Int { 1 + layers * bits.count }

    /// Every cell's batches in runs of at most `batchesPerTask`: the float model first, then
    /// layer after layer, width after width (the order of task ids on a cluster).
    public func tasks(batchesPerTask: Int) -> [MeasuredTask] {
        let step = max(1, min(batchesPerTask, batches))
        let runs = stride(from: 0, to: batches, by: step).map { $0..<min($0 + step, batches) }
        let cells: [(Int?, Int)] = [(nil, 0)] + (0..<layers).flatMap { l in bits.map { (Optional(l), $0) } }
        return cells.flatMap { cell in runs.map { MeasuredTask(layer: cell.0, bits: cell.1, batches: $0) } }
    }

    /// The cell of `task`; throws if the task is not one of this measurement.
    func cell(_ task: MeasuredTask) throws(SensitivityError) -> Int {
        guard !task.batches.isEmpty, task.batches.lowerBound >= 0, task.batches.upperBound <= batches else {
            throw SensitivityError(.invalidJob, "\(task) is not within the job's \(batches) batches")
        }
        guard let layer = task.layer else { return 0 }
        guard (0..<layers).contains(layer), let w = bits.firstIndex(of: task.bits) else {
            throw SensitivityError(.invalidJob, "\(task) is not a layer (0..<\(layers)) and width (\(bits)) of this measurement")
        }
        return 1 + layer * bits.count + w
    }

    /// Stores a task's per-batch sums. A cell given twice must get the same bits (at-least-once delivery).
    public mutating func add(_ task: MeasuredTask, _ values: [Double]) throws(SensitivityError) {
        let cell = try cell(task)
        guard values.count == task.batches.count else {
            throw SensitivityError(.invalidResult, "result of \(task) has \(values.count) values; expected one per batch, \(task.batches.count)")
        }
        guard values.allSatisfy(\.isFinite) else {
            throw SensitivityError(.invalidResult, "result of \(task) has a non-finite loss")
        }
        for (b, value) in zip(task.batches, values) {
            if let old = sums[cell * batches + b], old.bitPattern != value.bitPattern {
                throw SensitivityError(.invalidResult, "result of \(task) differs from an earlier result for batch \(b) (\(old) vs \(value)); tasks must be deterministic")
            }
        }
        for (b, value) in zip(task.batches, values) { sums[cell * batches + b] = value }
    }

    public var isComplete: Bool { !sums.contains(nil) }

    /// The float model's mean loss L = (Σ_b S_b) / N and each layer's increase by width,
    /// (Σ_b S_b(l, w)) / N − L, the batches summed in order; nil while a cell is missing.
    /// `examples` is N, the examples in all batches.
    public func result(examples: Int) -> (baseLoss: Double, increases: [[Int: Double]])? {
        guard isComplete else { return nil }
        let n = Double(max(1, examples))
        func mean(_ cell: Int) -> Double {
            var total = 0.0
            for b in 0..<batches { total += sums[cell * batches + b] ?? .nan }
            return total / n
        }
        let base = mean(0)
        let increases = (0..<layers).map { l in
            Dictionary(uniqueKeysWithValues: bits.enumerated().map { w, b in (b, mean(1 + l * bits.count + w) - base) })
        }
        return (base, increases)
    }
}
