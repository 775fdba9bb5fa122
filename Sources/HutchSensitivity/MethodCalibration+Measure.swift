import HutchAutodiff
import HutchModel
import HutchTensor

extension MethodCalibration {
    /// Examples of the pilot batch the calibration runs on.
    public static let pilotExamples = 8
    /// Samples and probes of the pilot (their spread estimates the variances).
    public static let pilotSamples = 4

    /// Times a forward pass, `pilotSamples` ggn samples and as many Hutchinson probes (joint
    /// mode) on the first `pilotExamples` examples, through the same tasks a job runs. The
    /// variances are those of the pilot's per-sample (per-probe) values, worst layer; ggn's is
    /// scaled to the job's examples (its examples are independent), Hutchinson's is not (its
    /// probe is shared by every example). A few seconds on ResNet-18.
    public static func measure(graph: Graph, dataset: Dataset, options: TraceOptions, examples: Int) throws -> MethodCalibration {
        let m = min(pilotExamples, examples)
        let layers = graph.quantizableLayers.count
        let clock = ContinuousClock()
        func seconds(_ d: Duration) -> Double {
            Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        }
        func pilot(_ method: TraceMethod) throws -> (seconds: Double, variance: Double, runner: TaskRunner) {
            let job = try SensitivityJob(method: method, mode: .joint, seed: options.seed, samples: m, batchSize: m, layerCount: layers)
            var runner = try TaskRunner(graph: graph, dataset: dataset, job: job, probesPerCall: pilotSamples)
            runner.memoryBytes = options.memoryBytes   // the pilot's Hutchinson chunk fits --memory as the job's do
            var result: TaskResult?
            let time = try clock.measure {
                result = try runner.run(SensitivityTask(batches: 0..<1, probes: 0..<pilotSamples, groups: 0..<1))
            }
            var aggregator = TraceAggregator(job: job)
            if let result { try aggregator.add(result) }
            let worst = (0..<layers).map { l -> Double in
                guard let e = aggregator.estimate(layer: l), let se = e.standardError else { return .infinity }
                if se == 0 { return 0 }
                return e.trace == 0 ? .infinity : se * se * Double(pilotSamples) / (e.trace * e.trace)
            }.max() ?? .infinity
            return (seconds(time), worst, runner)
        }
        let ggn = try pilot(.ggn), hutchinson = try pilot(.hutchinson)
        let x = ggn.runner.batch(0).inputs
        let forward = seconds(try clock.measure { _ = try ggn.runner.executor.logits(x) }) / Double(m)
        let calls = Double((pilotSamples + pilotSamples - 1) / pilotSamples)
        let reverse = max(0, ggn.seconds / Double(m) - calls * forward) / Double(pilotSamples)
        return MethodCalibration(examples: examples, classes: graph.classCount ?? 0, forwardSeconds: forward,
                                 reverseSeconds: reverse, probeSeconds: hutchinson.seconds / Double(m * pilotSamples),
                                 ggnRelativeVariance: ggn.variance * Double(m) / Double(examples),
                                 hutchinsonRelativeVariance: hutchinson.variance)
    }
}
