import Foundation

/// The instruction sets the direct kernels' targets were compiled for, as this CPU reports them:
/// the flags line of /proc/cpuinfo (the kernel clears AVX flags when the OS does not save their
/// register state). None off x86-64 or when unreadable.
public struct CPUFeatures: Sendable, Hashable {
    /// HutchTensorAVX2's code runs (-target-cpu haswell: AVX2, FMA, BMI1/2, F16C, MOVBE).
    public var avx2FMA: Bool
    /// HutchTensorAVX512's code runs (-target-cpu skylake-avx512); implies avx2FMA.
    public var avx512: Bool

    public init(avx2FMA: Bool, avx512: Bool) {
        self.avx2FMA = avx2FMA
        self.avx512 = avx2FMA && avx512
    }

    /// Features from the words of a cpuinfo flags line.
    init(flags: Set<Substring>) {
        let avx2 = ["avx2", "fma", "bmi1", "bmi2", "f16c", "movbe", "popcnt"].allSatisfy { flags.contains($0) }
        let avx512 = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"].allSatisfy { flags.contains($0) }
        self.init(avx2FMA: avx2, avx512: avx512)
    }

    /// This machine's features, read once.
    public static let host = CPUFeatures(flags: {
        #if arch(x86_64)
        guard let handle = FileHandle(forReadingAtPath: "/proc/cpuinfo"),
              let data = try? handle.readToEnd(), let text = String(data: data, encoding: .utf8),
              let flags = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return [] }
        return Set(flags.split(whereSeparator: { $0 == " " || $0 == "\t" }))
        #else
        return []
        #endif
    }())
}
