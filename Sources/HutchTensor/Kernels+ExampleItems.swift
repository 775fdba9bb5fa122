/// The work items of the per-example kernels (direct, pointwise): an example with all blocks when
/// the blocks share their input (prepared once for all of them), else one (block, example) pair.
/// Handed out one at a time (WorkQueue); what an item computes does not depend on the thread.
struct ExampleItems {
    let batch: Int, perItem: Int, count: Int
    private let queue: WorkQueue

    init(batch: Int, blocks: Int, sharedInput: Bool) {
        self.batch = batch
        perItem = sharedInput ? blocks : 1
        count = batch * (blocks / perItem)
        queue = WorkQueue(count)
    }

    /// Threads worth starting: at most `workers`, at most one per item.
    func threads(_ workers: Int) -> Int { max(1, min(workers, count)) }

    /// The next item's blocks and example, nil when all are taken.
    @inline(__always)
    func next() -> (blocks: Range<Int>, example: Int)? {
        guard let item = queue.next() else { return nil }
        let b0 = (item / batch) * perItem
        return (b0..<(b0 + perItem), item % batch)
    }
}
