import HutchModel

extension SensitivityAnalysis {
    /// Resolves `auto` by cost where that can change the answer: on a piecewise-linear network
    /// with more classes than the sampled methods' fewest samples (`MethodChoice`), calibrates
    /// and returns the options with the fastest method that reaches the tolerance, and why.
    /// Everywhere else `auto` is left to `job` (exact when piecewise linear, else Hutchinson:
    /// ggn would measure the Gauss-Newton matrix, not the Hessian), with nothing measured.
    public static func resolveAuto(graph: Graph, dataset: Dataset, options: TraceOptions) throws -> (TraceOptions, reason: String?) {
        guard dataset.hasClassTargets else { return (options, nil) }   // exact and ggn are the classifier's
        let examples = min(options.samples ?? dataset.count, dataset.count)
        return try resolveAuto(piecewiseLinear: graph.exactTraceObstacle == nil, classes: graph.classCount, options: options) {
            try MethodCalibration.measure(graph: graph, dataset: dataset, options: options, examples: examples)
        }
    }

    /// The same decision with the calibration injected: `measure` runs only when the choice
    /// needs it, so callers (and tests) can supply measured costs.
    public static func resolveAuto(piecewiseLinear: Bool, classes: Int?, options: TraceOptions,
                                   measure: () throws -> MethodCalibration) throws -> (TraceOptions, reason: String?) {
        guard options.method == .auto, piecewiseLinear, let classes,
              !MethodChoice.exactNeedsNoCalibration(classes: classes, options: options) else { return (options, nil) }
        let costs = MethodChoice.costs(try measure(), options: options, piecewiseLinear: true)
        guard let chosen = MethodChoice.choose(costs) else { return (options, nil) }
        var resolved = options
        switch chosen.method {
        case .exact: resolved.method = .exact
        case .ggn: resolved.method = .ggn
        case .hutchinson: resolved.method = .hutchinson
        }
        return (resolved, MethodChoice.explain(chosen, costs, tolerance: options.tolerance))
    }
}
