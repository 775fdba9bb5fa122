/// Single flags that several commands take, each defined once: --threads and --packed.
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
}
