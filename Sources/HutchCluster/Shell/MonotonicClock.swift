import Foundation

/// Milliseconds on a monotonic clock: the `now` the cores take.
public enum MonotonicClock {
    public static var nowMs: UInt64 { DispatchTime.now().uptimeNanoseconds / 1_000_000 }
}
