import Foundation

/// Cosine annealing without restarts: lr(t) = peak · (1 + cos(π t / T)) / 2 for step t of T,
/// from the peak at the first step towards 0 at the last.
public struct CosineSchedule: Sendable, Equatable {
    public var peak: Double
    public var steps: Int

    public init(peak: Double, steps: Int) {
        self.peak = peak
        self.steps = max(1, steps)
    }

    public func rate(atStep t: Int) -> Double {
        peak * (1 + cos(Double.pi * Double(t) / Double(steps))) / 2
    }
}
