import Foundation

/// The memory this process may use, for the default of `--memory`: /proc/meminfo's MemTotal and
/// the cgroup limit (v2 memory.max, else v1 memory.limit_in_bytes), when readable.
enum SystemMemory {
    static func physicalBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        return meminfoTotal(text)
    }

    static func cgroupLimitBytes() -> Int? {
        for path in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
            if let text = try? String(contentsOfFile: path, encoding: .utf8) { return cgroupLimit(text) }
        }
        return nil
    }

    /// "MemTotal:  24000000 kB" → bytes.
    static func meminfoTotal(_ text: String) -> Int? {
        for line in text.split(separator: "\n") where line.hasPrefix("MemTotal:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let kb = Int(fields[1]) else { return nil }
            return kb * 1024
        }
        return nil
    }

    /// A cgroup limit file: bytes, or "max" (v2) / a huge number (v1) for none.
    static func cgroupLimit(_ text: String) -> Int? {
        guard let bytes = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes < 1 << 60 else { return nil }
        return bytes
    }
}
