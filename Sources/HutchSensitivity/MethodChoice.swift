/// Cost-aware `auto` (Protocols/README.md, "Method auto"): predicts each method's seconds from a
/// short calibration and picks the fastest that reaches the tolerance. Pure: given the
/// calibration, the choice is a function of the numbers alone (unit-tested without timing).
public struct MethodCalibration: Sendable, Hashable {
    public var examples: Int
    public var classes: Int
    /// Seconds of one forward pass per example.
    public var forwardSeconds: Double
    /// Seconds of one reverse pass with per-example norms, per example and seed or sample (an
    /// exact seed is taken to cost what a ggn sample does).
    public var reverseSeconds: Double
    /// Seconds of one Hutchinson probe (Hessian-vector product) per example.
    public var probeSeconds: Double
    /// Worst layer's relative variance of one sample's full-data value (ggn), and of one probe's
    /// (Hutchinson): samples needed for relative standard error t are variance / t^2.
    public var ggnRelativeVariance: Double
    public var hutchinsonRelativeVariance: Double

    public init(examples: Int, classes: Int, forwardSeconds: Double, reverseSeconds: Double, probeSeconds: Double,
                ggnRelativeVariance: Double, hutchinsonRelativeVariance: Double) {
        self.examples = examples; self.classes = classes
        self.forwardSeconds = forwardSeconds; self.reverseSeconds = reverseSeconds; self.probeSeconds = probeSeconds
        self.ggnRelativeVariance = ggnRelativeVariance; self.hutchinsonRelativeVariance = hutchinsonRelativeVariance
    }
}

/// One method's predicted cost.
public struct MethodCost: Sendable, Hashable {
    public var method: TraceMethod
    public var seconds: Double
    /// Samples or probes it would take (nil for exact).
    public var samples: Int?
    /// Whether it reaches the tolerance within --max-probes (exact always does), or with a fixed
    /// --probes whether that many are predicted to.
    public var reachesTolerance: Bool
}

public enum MethodChoice {
    /// Without measuring anything, exact is the fastest whenever its C - 1 seeds per example are
    /// no more than one adaptive round of samples, the fewest the tolerance rule takes: an exact
    /// seed costs at most a ggn sample's reverse pass, and a Hutchinson probe more. (So a
    /// 10-class model keeps exact, with or without --probes.)
    public static func exactNeedsNoCalibration(classes: Int, options: TraceOptions) -> Bool {
        classes - 1 <= max(2, options.probesPerRound)
    }

    /// Predicted cost of every candidate: exact (when the network is piecewise linear), ggn
    /// (likewise: on other networks it measures the Gauss-Newton matrix, not the Hessian) and
    /// Hutchinson.
    public static func costs(_ c: MethodCalibration, options: TraceOptions, piecewiseLinear: Bool) -> [MethodCost] {
        let n = Double(c.examples)
        let perCall = Double(max(1, options.probesPerCall))
        func sampled(_ variance: Double) -> (samples: Int, reaches: Bool) {
            let needed = variance.isFinite ? (variance / (options.tolerance * options.tolerance)).rounded(.up) : .infinity
            if let fixed = options.probes { return (fixed, needed <= Double(fixed)) }
            let limit = max(2, options.maxProbes), round = max(2, options.probesPerRound)
            guard needed <= Double(limit) else { return (limit, false) }
            let rounds = max(1, (Int(needed) + round - 1) / round)
            return (min(limit, rounds * round), true)
        }
        var out: [MethodCost] = []
        if piecewiseLinear {
            out.append(MethodCost(method: .exact, seconds: n * (c.forwardSeconds + Double(max(c.classes - 1, 0)) * c.reverseSeconds),
                                  samples: nil, reachesTolerance: true))
            let g = sampled(c.ggnRelativeVariance)
            let k = Double(g.samples)
            out.append(MethodCost(method: .ggn, seconds: n * ((k / perCall).rounded(.up) * c.forwardSeconds + k * c.reverseSeconds),
                                  samples: g.samples, reachesTolerance: g.reaches))
        }
        let h = sampled(c.hutchinsonRelativeVariance)
        out.append(MethodCost(method: .hutchinson, seconds: n * Double(h.samples) * c.probeSeconds, samples: h.samples,
                              reachesTolerance: h.reaches))
        return out
    }

    /// The fastest method that reaches the tolerance (ties: the earlier of exact, ggn,
    /// Hutchinson); when none does, the fastest.
    public static func choose(_ costs: [MethodCost]) -> MethodCost? {
        let reaching = costs.filter(\.reachesTolerance)
        return (reaching.isEmpty ? costs : reaching).min { $0.seconds < $1.seconds }
    }

    /// One line: the choice and the predictions behind it.
    public static func explain(_ chosen: MethodCost, _ costs: [MethodCost], tolerance: Double) -> String {
        let parts = costs.map { c in
            let samples = c.samples.map { " with \($0) sample(s)" } ?? ""
            let reach = c.reachesTolerance ? "" : " (short of the tolerance)"
            return "\(c.method.rawValue) \(format(c.seconds)) s\(samples)\(reach)"
        }
        return "method auto: \(chosen.method.rawValue), the fastest predicted to reach relative standard error ≤ \(tolerance) on every layer: "
            + parts.joined(separator: ", ")
    }

    static func format(_ x: Double) -> String {
        x < 10 ? "\((x * 100).rounded() / 100)" : "\(Int(x.rounded()))"
    }
}
