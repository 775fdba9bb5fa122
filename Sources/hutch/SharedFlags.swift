import HutchJobs

/// Single flags that several commands take, each defined once: --threads, --packed and --memory.
enum SharedFlags {
    /// --threads T; `note` says what the count changes in this command.
    static func threads(_ note: String) -> Arguments.Flag {
        .option("threads", "T", "compute threads (default: all cores)" + note)
    }

    /// The thread count given (nil: the default), passed on as a value, never through the environment.
    static func threads(_ arguments: Arguments) throws -> Int? {
        try arguments.int("threads", range: 1...1024)
    }

    /// The .hutchq file beside a quantized model.
    static let packed = Arguments.Flag.option("packed", "PATH", "also write the bit-packed weight file (Protocols/packed-weights.md)")

    /// --memory GB (`hutch trace`, `hutch worker`): what the process may use, which caps how many
    /// seeds and examples exact, ggn and activation passes stack, and how many Hutchinson chunks
    /// run at once (Protocols/README.md, "Memory").
    static let memory = Arguments.Flag.option("memory", "GB", "memory to plan for, in 10^9 bytes (default: the physical memory or the cgroup limit, the smaller): "
                                              + "exact and ggn stack at most min(4 GiB, half of it) of activations per reverse pass; Hutchinson runs "
                                              + "as many chunks of 8 examples at once as fit (at most one per thread), and if not one fits, fewer "
                                              + "probes per call (same results); if one probe does not fit either, exit 12 (Protocols/README.md, \"Memory\")")

    /// The --memory given, in bytes (nil: the default).
    static func memory(_ arguments: Arguments) throws -> Int? {
        guard let gb = try arguments.double("memory") else { return nil }
        guard gb > 0, gb < 1e9 else { throw CommandFailure(.usage, "--memory must be a positive number of GB, got \(gb)") }
        return Int(gb * 1e9)
    }
}
