import Glibc

/// This process's peak resident memory so far (getrusage's ru_maxrss, in KiB on Linux); nil
/// when the system does not say. run.json records the coordinator's and each worker's.
public enum PeakResidentMemory {
    public static func bytes() -> UInt64? {
        var usage = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0, usage.ru_maxrss > 0 else { return nil }
        return UInt64(usage.ru_maxrss) * 1024
    }
}
