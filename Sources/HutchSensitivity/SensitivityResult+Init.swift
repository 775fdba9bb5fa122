import HutchModel

// Public initializers so that a result computed elsewhere (a cluster coordinator aggregating
// workers' tasks) can be assembled into the same types `hutch trace` writes.
extension LayerSensitivity {
    public init(index: Int, layer: QuantizableLayer, estimate: LayerEstimate, method: TraceMethod,
                topEigenvalue: Double?, quantizationErrors: [Int: Double]?, tieGroup: String?) {
        self.init(index: index, layer: layer, trace: estimate.trace, standardError: estimate.standardError,
                  probes: estimate.probes, method: method, topEigenvalue: topEigenvalue,
                  quantizationErrors: quantizationErrors, tieGroup: tieGroup)
    }
}

extension SensitivityResult {
    public init(job: SensitivityJob, assembled layers: [LayerSensitivity], fallbackReason: String?) {
        self.job = job
        self.layers = layers
        self.fallbackReason = fallbackReason
    }
}

extension SensitivityAnalysis {
    /// The job `run` measures for these options (method `auto` resolved) and why `auto`
    /// fell back to Hutchinson. `run` calls this, so a coordinator gets the very same job.
    /// `classTargets`: the labels are classes (loss ce); exact and ggn are defined for that head only.
    public static func job(graph: Graph, datasetCount: Int, classTargets: Bool, options: TraceOptions) throws -> (SensitivityJob, fallback: String?) {
        let layers = graph.quantizableLayers
        guard !layers.isEmpty else {
            throw SensitivityError(.unsupported, "the model has no quantizable layer (Conv, Gemm or MatMul with an initializer weight)")
        }
        let headObstacle = classTargets ? nil : "the labels are for another loss head than classification (loss ce)"
        let obstacle = graph.exactTraceObstacle.map { "\($0)" } ?? headObstacle
        var fallback: String?
        let method: TraceMethod
        switch options.method {
        case .exact:
            if headObstacle != nil {
                throw SensitivityError(.unsupported, "exact traces are for classification labels (loss ce); these labels are for another loss head: use --method hutchinson")
            }
            if let obstacle {
                throw SensitivityError(.unsupported, "exact traces need a network that is piecewise linear in each weight, but \(obstacle); use --method hutchinson (or auto)")
            }
            method = .exact
        case .hutchinson: method = .hutchinson
        case .ggn:
            if let headObstacle {
                throw SensitivityError(.unsupported, "sampled GGN traces use the softmax cross-entropy's logit Hessian, but \(headObstacle); use --method hutchinson")
            }
            if let obstacle = graph.perExampleObstacle {
                throw SensitivityError(.unsupported, "sampled GGN traces need each example's rows apart, but \(obstacle); use --method hutchinson")
            }
            method = .ggn
        case .auto:
            method = obstacle == nil ? .exact : .hutchinson
            fallback = obstacle
        }
        let samples = min(options.samples ?? datasetCount, datasetCount)
        let job = try SensitivityJob(method: method, mode: options.mode, seed: options.seed, samples: samples,
                                     batchSize: options.batchSize, layerCount: layers.count)
        return (job, fallback)
    }
}
