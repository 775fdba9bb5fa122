import Foundation
import HutchAllocation
import HutchAutodiff
import HutchModel
import HutchSensitivity
import HutchTensor

/// `hutch trace` in one process: measures each layer's Hessian trace (and quantization errors)
/// on the data and writes sensitivity.json (Protocols/sensitivity.schema.json).
public struct TraceJob {
    public var inputs: JobInputs
    public var options: TraceOptions
    /// Compute threads; nil: all cores. Results do not depend on it.
    public var threads: Int?
    public var out: String
    /// Also HAWQ-V2's activation sensitivities of each layer's input activation: exact when the
    /// weight traces are, else Hutchinson with the weight traces' probe count and seed (at least 10).
    public var activations = false
    /// Also the measured loss increase of each layer alone quantized at each width (TraceJob+Measured.swift).
    public var measured = false

    public init(inputs: JobInputs, options: TraceOptions, threads: Int?, out: String) {
        self.inputs = inputs
        self.options = options
        self.threads = threads
        self.out = out
    }

    /// Writes `out` and returns what was measured.
    public func run() throws -> SensitivityResult {
        if let threads { Kernels.setThreads(threads) }   // before any computation
        let (graph, modelDigest) = try loadModel(inputs.model)
        let (dataset, dataDigest) = try inputs.loadData()
        try dataset.validate(against: graph, modelName: inputs.model)
        if measured {   // before the long part
            try Self.checkMeasured(bits: options.bits)
            _ = try dataset.classLabels(for: "--measured")
        }
        if activations { _ = try dataset.classLabels(for: "--activations") }
        log("trace: \(inputs.model) on \(min(options.samples ?? dataset.count, dataset.count)) of \(dataset.count) examples from \(inputs.data.description)")

        var options = options
        options.memoryBytes = options.memoryBytes
            ?? MemoryBudget.defaultMemory(physical: SystemMemory.physicalBytes(), cgroupLimit: SystemMemory.cgroupLimitBytes())
        let (resolved, choice) = try SensitivityAnalysis.resolveAuto(graph: graph, dataset: dataset, options: options)
        if let choice { log(choice) }
        var reporter = ProgressReporter()
        let result = try SensitivityAnalysis.run(graph: graph, dataset: dataset, options: resolved,
                                                 progress: { reporter.update($0) }, note: { log("trace: \($0)") })
        reporter.finish()
        if let reason = result.fallbackReason {
            log("method auto: Hutchinson, because exact traces do not apply: \(reason)")
        }
        var report = SensitivityReport(result, options: options, modelDigest: modelDigest, dataDigest: dataDigest)
        if activations {
            let used = options.samples.map { dataset.prefix($0) } ?? dataset
            let exact = result.job.method == .exact
            let probes = ActivationSensitivity.probeCount(asked: options.probes, weightProbes: result.layers.map(\.probes))
            log("activations: \(exact ? "exact" : "Hutchinson with \(probes) probes") on \(graph.quantizableLayers.count) layers' inputs")
            let measured = try ActivationSensitivity.measure(graph: graph, dataset: used, exact: exact, probes: probes, seed: options.seed,
                                                             batchSize: options.batchSize, bits: options.bits, probesPerCall: options.probesPerCall,
                                                             stackBudgetBytes: options.memoryBytes.map(MemoryBudget.stackBytes) ?? Executor<Float>.exactStackBudgetBytes,
                                                             memoryBytes: options.memoryBytes)
            report.setActivations(measured, graph: graph)
        }
        if measured { try addMeasured(&report, graph: graph, dataset: dataset, job: result.job) }
        try report.validate(source: out)
        try writeAtomically(try report.encoded(), to: out)
        return result
    }
}
