import Foundation
import HutchAllocation
import HutchClusterCore
import HutchModel
import HutchSensitivity

/// `hutch plan`: reads sensitivity.json, solves the bit allocation, writes plan.json (and
/// optionally the Pareto frontier as JSON and SVG).
public struct PlanJob {
    public var sensitivity: String
    public var request: AllocationRequest
    public var out: String
    public var solver = SolverKind.exact
    /// The model the sensitivity file was measured on: its quantization errors are recomputed
    /// for the candidate widths.
    public var model: String?
    /// Where to write the Pareto frontier as JSON, and drawn as SVG.
    public var frontier: String?
    public var svg: String?
    /// Also prints predicted against measured loss changes (PredictionCheck) on stderr.
    public var check = false
    /// With `check` and `model`: also the measured loss change of the whole plan on this data.
    public var checkData: DataSource?
    /// The loss head `--loss` names (nil: chosen by the labels); `checkData` must be for it.
    public var checkLoss: String?

    public init(sensitivity: String, request: AllocationRequest, out: String) {
        self.sensitivity = sensitivity
        self.request = request
        self.out = out
    }

    /// Writes the outputs and returns the plan.
    public func run() throws -> Plan {
        let data = try readFile(sensitivity, what: "sensitivity file")
        var report = try SensitivityReport.decode(data, source: sensitivity)
        if let model {
            try Self.recomputeQuantizationErrors(&report, modelPath: model, request: request, source: sensitivity)
        }
        let problem = try AllocationProblem(report: report, request: request, source: sensitivity)
        let allocation = try problem.solve(solver)
        let digest = Digest.sha256(data)
        let plan = Plan(problem: problem, allocation: allocation, sensitivityDigest: digest, modelDigest: report.job.modelDigest)
        if check {
            var comparison = try PredictionCheck(report: report, chosenBits: allocation.bits, source: sensitivity)
            if let model, let checkData {
                comparison.planMeasured = try Self.measuredPlanChange(modelPath: model, data: checkData, lossHead: checkLoss, bits: allocation.bits)
            }
            comparison.lines.forEach { log($0) }
        }
        try writeAtomically(try plan.encoded(), to: out)

        if frontier != nil || svg != nil {
            let points = problem.frontier()
            let chosen = problem.frontierPoint(bits: allocation.bits, activationBits: allocation.activationBits)
            let document = FrontierDocument(problem: problem, frontier: points, chosen: chosen, sensitivityDigest: digest)
            if let frontier { try writeAtomically(try document.encoded(), to: frontier) }
            if let svg { try writeAtomically(Data(document.svg().utf8), to: svg) }
            log("frontier: \(points.count) Pareto-optimal points")
        }
        return plan
    }

    /// Fills every layer's quantization_error for all candidate widths with the quantizer `hutch trace`
    /// uses, from the model the sensitivity file was measured on (checked by digest).
    static func recomputeQuantizationErrors(_ report: inout SensitivityReport, modelPath: String,
                                            request: AllocationRequest, source: String) throws {
        let storage = try mapModel(modelPath)
        let digest = Digest.sha256(storage)
        guard digest == report.job.modelDigest else {
            throw CommandFailure(.invalidSensitivity, "\(source) was measured on model \(report.job.modelDigest), not on \(modelPath) (\(digest)); pass the model the traces came from")
        }
        let graph = try ONNXLoader.load(storage: storage, source: modelPath)
        let layers = graph.quantizableLayers
        guard layers.map(\.weightName) == report.layers.map(\.weight) else {
            throw CommandFailure(.invalidSensitivity, "\(source): its layers do not match the quantizable layers of \(modelPath)")
        }
        let bits = Array(Set(request.bits + request.layerBits.flatMap(\.bits))).sorted()
        let errors = try QuantizationErrors.compute(graph, bits: bits)
        for index in report.layers.indices {
            report.layers[index].quantizationError = Dictionary(uniqueKeysWithValues: errors[index].map { (String($0.key), $0.value) })
        }
        report.quantization = SensitivityReport.Quantization(scheme: QuantizationErrors.scheme, bits: bits)
    }
}
