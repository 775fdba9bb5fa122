import Foundation
import HutchAllocation
import HutchClusterCore
import HutchModel
import HutchQuantize
import HutchSensitivity
import HutchWire

extension ClusterJob {
    /// The sensitivity result of the workers' estimates, with what SensitivityAnalysis adds after
    /// the traces as `hutch trace` does: eigenvalues and quantization errors (computed by the
    /// workers' eigenvalue and quantization-error tasks) and tie groups.
    /// The plan step between the phases: plan.json's bytes for the measured sensitivities and
    /// each layer's widths under it. Pure, so the seeded simulator runs it as the job does.
    public static func solvePlan(_ report: SensitivityReport, sensitivityData: Data, step: PlanStep, graph: Graph,
                                 source: String) throws -> (plan: Data, widths: [LayerWidths]) {
        let problem = try AllocationProblem(report: report, request: step.request, source: source)
        let allocation = try problem.solve(step.solver)
        let planData = try Plan(problem: problem, allocation: allocation, sensitivityDigest: Digest.sha256(sensitivityData),
                                modelDigest: report.job.modelDigest).encoded()
        return (planData, try PlanWidths.decode(planData, source: "plan.json").widths(for: graph, source: "plan.json"))
    }

    public static func sensitivityResult(_ estimates: [LayerEstimate], core: CoordinatorCore, job: SensitivityJob, graph: Graph,
                                  options: TraceOptions, fallback: String?) throws -> SensitivityResult {
        let layers = graph.quantizableLayers
        let eigen = options.eigenvalues ? core.eigenvalues : [Double?](repeating: nil, count: layers.count)
        if options.eigenvalues && eigen.contains(where: { $0 == nil }) {
            throw CommandFailure(.internalError, "the coordinator finished without the eigenvalue of every layer")
        }
        let errors = core.quantizationErrors
        if !options.bits.isEmpty && errors == nil {
            throw CommandFailure(.internalError, "the coordinator finished without the quantization errors of every layer")
        }
        let ties = graph.tieGroups
        var result = SensitivityResult(job: job, assembled: layers.enumerated().map { l, layer in
            LayerSensitivity(index: l, layer: layer, estimate: estimates[l], method: job.method, topEigenvalue: eigen[l],
                             quantizationErrors: errors?[l], tieGroup: ties[l])
        }, fallbackReason: fallback)
        result.curvature = SensitivityAnalysis.curvature(graph, job.method)
        return result
    }

    /// The QDQ model of the layers the workers quantized, with activations calibrated here on the
    /// full data, as `hutch quantize --data` does (read a group at a time: `FileCalibrationGroups`). The layers stay in the core's layer store: the
    /// model holds their scales, and their codes are read back one layer at a time as the file
    /// is written (the deferred tensors).
    static func quantizedModel(_ digests: [WireDigest], of core: CoordinatorCore, widths: [LayerWidths], graph: Graph, proto: ONNXModelProto,
                               calibration: some CalibrationExamples, modelPath: String) throws -> (ONNXModelProto, [String: DeferredTensorData]) {
        let quantizer = try ModelQuantizer(graph: graph, widths: widths)
        let (activationInputs, activationOutputs) = try quantizer.calibrate(calibration, method: .minMax)
        let headers = try digests.enumerated().map { index, digest in
            var layer = try core.quantizedLayer(index, digest: digest)
            layer.weight.codes = []
            return layer
        }
        let model = QuantizedModel(graph: graph, layers: headers, inputs: activationInputs, outputs: activationOutputs)
        let (qdq, deferred) = try QDQExporter.exportDeferred(model, original: proto, source: modelPath) { index in
            try core.quantizedLayer(index, digest: digests[index]).weight.codes
        }
        // tensors the export keeps (biases, norms) leave the external data file for the output
        return (try ExternalDataFiles(modelPath: modelPath).inlined(qdq), deferred)
    }
}
