import HutchAutodiff

/// How `--memory` bounds the stacked reverse passes of exact and ggn (Protocols/README.md,
/// "Memory"): a pass stacks (seeds × examples) copies of the network's activations, at most
/// half the memory, and never more than the fixed 4 GiB default; the other half is for the
/// model, the data, the forward tape and the kernels' buffers. At least 8 examples' worth
/// (`Executor.exactStackedExamples`), so a tiny budget slows passes down instead of failing.
public enum MemoryBudget {
    public static func stackBytes(memory: Int) -> Int {
        min(Executor<Float>.exactStackBudgetBytes, max(0, memory) / 2)
    }

    /// The default --memory: the smaller of the physical memory and the cgroup limit, when known.
    public static func defaultMemory(physical: Int?, cgroupLimit: Int?) -> Int? {
        [physical, cgroupLimit].compactMap { $0 }.filter { $0 > 0 }.min()
    }
}
