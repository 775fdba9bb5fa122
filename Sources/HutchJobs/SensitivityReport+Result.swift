import HutchAllocation
import HutchSensitivity

extension SensitivityReport {
    /// sensitivity.json's content for a measured result, as `hutch trace` and the cluster jobs write it.
    public init(_ result: SensitivityResult, options: TraceOptions, modelDigest: String, dataDigest: String?) {
        let job = result.job
        let hutchinson = job.method == .hutchinson, sampled = job.method.isSampled
        let layers = result.layers.map { s -> SensitivityReport.Layer in
            var trace = s.trace
            var measured: Double?
            if trace < 0 {
                // the objective needs traces >= 0; measured_trace keeps what was measured
                let se = s.standardError.map { " ± \($0)" } ?? ""
                log("warning: layer '\(s.layer.nodeName)': measured trace \(trace)\(se) is negative (its Hessian block is indefinite, or the estimate is noise); the plan counts it as 0")
                measured = trace
                trace = 0
            }
            return SensitivityReport.Layer(
                index: s.index, node: s.layer.nodeName, weight: s.layer.weightName, op: s.layer.opType,
                shape: s.layer.shape, parameters: s.layer.parameterCount, macs: s.layer.macsPerExample,
                trace: trace, tracePerParameter: trace / Double(s.layer.parameterCount),
                standardError: s.standardError ?? (sampled ? 0 : nil), probes: s.probes, exact: s.exact,
                method: s.method.rawValue, topEigenvalue: s.topEigenvalue,
                quantizationError: s.quantizationErrors.map { errors in
                    Dictionary(uniqueKeysWithValues: errors.map { (String($0.key), $0.value) })
                },
                tieGroup: s.tieGroup, measuredTrace: measured)
        }
        self.init(
            job: .init(modelDigest: modelDigest, dataDigest: dataDigest, samples: job.samples, batchSize: job.batchSize,
                       seed: sampled || options.eigenvalues ? job.seed : nil, method: job.method.rawValue,
                       mode: hutchinson ? job.mode.rawValue : nil, toolVersion: hutchVersion,
                       curvature: result.curvature?.rawValue),
            quantization: options.bits.isEmpty ? nil : .init(scheme: QuantizationErrors.scheme, bits: options.bits),
            layers: layers)
    }
}
