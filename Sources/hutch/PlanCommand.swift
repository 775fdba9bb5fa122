import Foundation
import HutchAllocation
import HutchModel
import HutchSensitivity

/// `hutch plan`: reads sensitivity.json, solves the bit allocation, writes plan.json
/// (and optionally the Pareto frontier as JSON and SVG).
struct PlanCommand: Command {
    static let name = "plan"
    static let summary = "choose a bit width per layer under size / BOPs / latency budgets"
    static let usage = """
        --sensitivity S.json [--bits 2,3,4,5,6,8] [--size-mb X | --avg-bits X | --size-frac F] [--bops-g X] \
        [--latency-ms X --latency-table T] [--objective hawq-v3|eigenvalue|trace] [--solver exact|greedy] \
        [--pin first,last=8,NODE=B] [--tie auto|none|A=B,...] [--activation-bits 8] --out plan.json \
        [--frontier frontier.json] [--svg frontier.svg]
        """
    static let flags: [Arguments.Flag] = [
        .option("sensitivity", "PATH", "sensitivity.json from `hutch trace` (required)"),
        .option("bits", "LIST", "candidate weight widths, comma separated, each in 1...16 (default 2,3,4,5,6,8)"),
        .option("layer-bits", "SPEC", "per-layer candidates: NAME=4/6/8,NAME2=8 (NAME: first, last, node or weight name)"),
        .option("size-mb", "X", "weight size budget in MB (10^6 bytes)"),
        .option("avg-bits", "X", "weight size budget as average bits per parameter"),
        .option("size-frac", "F", "weight size budget: F in [0,1] between all-lowest and all-highest widths"),
        .option("bops-g", "X", "BOPs budget in 10^9 bit operations per example (MACs × weight bits × activation bits)"),
        .option("latency-ms", "X", "latency budget in ms (needs --latency-table)"),
        .option("latency-table", "PATH", "CSV or JSON table layer,bits,milliseconds"),
        .option("objective", "NAME", "hawq-v3 (Tr/n·‖Q(W)−W‖², default), eigenvalue (λmax·‖Q(W)−W‖²) or trace (Tr·4^−b)"),
        .option("solver", "NAME", "exact (proven optimal, default) or greedy (convex-hull MCKP)"),
        .option("pin", "LIST", "fix widths: first,last=8,NODE=4 (no =B: the layer's highest candidate)"),
        .option("tie", "SPEC", "equal widths: auto (tie_group in sensitivity.json, default), none, or A=B,C=D=E (may include auto)"),
        .option("activation-bits", "N", "activation width for BOPs (default 8)"),
        .option("model", "PATH", "the ONNX model of the sensitivity file: recompute quantization errors for the candidate widths"),
        .option("out", "PATH", "where to write plan.json (required)"),
        .option("frontier", "PATH", "also write the size-vs-Ω Pareto frontier as JSON"),
        .option("svg", "PATH", "also draw the frontier, uniform-precision points and the plan as SVG"),
    ]

    static func run(_ arguments: Arguments) throws {
        let sensitivityPath = try arguments.required("sensitivity")
        let outPath = try arguments.required("out")
        let data = try readFile(sensitivityPath, what: "sensitivity file")
        var report = try SensitivityReport.decode(data, source: sensitivityPath)
        let request = try makeRequest(arguments)
        if let modelPath = arguments.string("model") {
            try recomputeQuantizationErrors(&report, modelPath: modelPath, request: request, source: sensitivityPath)
        }
        let problem = try AllocationProblem(report: report, request: request, source: sensitivityPath)
        let solver = try arguments.string("solver").map { name -> SolverKind in
            guard let kind = SolverKind(rawValue: name) else {
                throw CommandFailure(.usage, "--solver must be exact or greedy, got '\(name)'")
            }
            return kind
        } ?? .exact

        let allocation = try problem.solve(solver)
        let digest = Digest.sha256(data)
        let plan = Plan(problem: problem, allocation: allocation, sensitivityDigest: digest, modelDigest: report.job.modelDigest)
        try writeAtomically(try plan.encoded(), to: outPath)

        let frontierPath = arguments.string("frontier"), svgPath = arguments.string("svg")
        if frontierPath != nil || svgPath != nil {
            let frontier = problem.frontier()
            let chosen = FrontierPoint(sizeBits: allocation.totals.sizeBits, omega: allocation.totals.omega, bits: allocation.bits)
            let document = FrontierDocument(problem: problem, frontier: frontier, chosen: chosen, sensitivityDigest: digest)
            if let frontierPath { try writeAtomically(try document.encoded(), to: frontierPath) }
            if let svgPath { try writeAtomically(Data(document.svg().utf8), to: svgPath) }
            log("frontier: \(frontier.count) Pareto-optimal points")
        }

        let t = plan.totals
        var line = "plan: Ω \(String(format: "%.6g", t.omega)), \(String(format: "%.4g", t.sizeMegabytes)) MB of weights "
        line += "(\(String(format: "%.3g", t.averageBits)) bits average)"
        if let bops = t.bops { line += ", \(String(format: "%.4g", bops / 1e9)) GBOPs" }
        if let latency = t.latencyMs { line += ", \(String(format: "%.4g", latency)) ms" }
        line += "; solver \(plan.solver.name) (\(plan.solver.algorithm)"
        line += plan.solver.provenOptimal ? ", proven optimal)" : ", gap ≤ \(String(format: "%.3g", plan.solver.relativeGap * 100)) %)"
        print(line + " → \(outPath)")
    }

    /// Fills every layer's quantization_error for all candidate widths with the quantizer `hutch trace`
    /// uses, from the model the sensitivity file was measured on (checked by digest).
    static func recomputeQuantizationErrors(_ report: inout SensitivityReport, modelPath: String,
                                            request: AllocationRequest, source: String) throws {
        let bytes = [UInt8](try readFile(modelPath, what: "model"))
        guard Digest.sha256(bytes) == report.job.modelDigest else {
            throw CommandFailure(.invalidSensitivity, "\(source) was measured on model \(report.job.modelDigest), not on \(modelPath) (\(Digest.sha256(bytes))); pass the model the traces came from")
        }
        let graph = try ONNXLoader.load(bytes: bytes, source: modelPath)
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

    static func makeRequest(_ arguments: Arguments) throws -> AllocationRequest {
        var request = AllocationRequest()
        if let text = arguments.string("bits") { request.bits = try parseBits(text, separator: ",", flag: "--bits") }
        if let text = arguments.string("layer-bits") {
            request.layerBits = try text.split(separator: ",").map { entry in
                let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, !parts[0].isEmpty else {
                    throw CommandFailure(.usage, "--layer-bits entry '\(entry)' must look like NAME=4/6/8")
                }
                return (LayerSelector(parts[0]), try parseBits(parts[1], separator: "/", flag: "--layer-bits \(parts[0])"))
            }
        }
        if let name = arguments.string("objective") {
            guard let objective = Objective(rawValue: name) else {
                throw CommandFailure(.usage, "--objective must be one of \(Objective.allCases.map(\.rawValue).joined(separator: ", ")), got '\(name)'")
            }
            request.objective = objective
        }
        if let x = try arguments.double("size-mb") { request.budgets.append(.sizeMegabytes(x)) }
        if let x = try arguments.double("avg-bits") { request.budgets.append(.averageBits(x)) }
        if let x = try arguments.double("size-frac") { request.budgets.append(.sizeFraction(x)) }
        if let x = try arguments.double("bops-g") { request.budgets.append(.gigaBOPs(x)) }
        if let x = try arguments.double("latency-ms") { request.budgets.append(.latencyMilliseconds(x)) }
        if let text = arguments.string("pin") {
            request.pins = try text.split(separator: ",").map { entry in
                let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
                guard !parts[0].isEmpty else { throw CommandFailure(.usage, "--pin entry '\(entry)' has no layer name") }
                var bits: Int?
                if parts.count == 2 {
                    guard let b = Int(parts[1]) else { throw CommandFailure(.usage, "--pin \(entry): '\(parts[1])' is not a bit width") }
                    bits = b
                }
                return Pin(layer: LayerSelector(parts[0]), bits: bits)
            }
        }
        if let text = arguments.string("tie") {
            var spec = TieSpec(auto: false, groups: [])
            for entry in text.split(separator: ",").map(String.init) {
                switch entry {
                case "auto": spec.auto = true
                case "none": break
                default:
                    spec.groups.append(entry.split(separator: "=", omittingEmptySubsequences: false).map { LayerSelector(String($0)) })
                }
            }
            if text.split(separator: ",").contains("none") && (spec.auto || !spec.groups.isEmpty) {
                throw CommandFailure(.usage, "--tie none cannot be combined with other ties")
            }
            request.ties = spec
        }
        if let bits = try arguments.int("activation-bits", range: 1 ... 16) { request.activationBits = bits }
        if let path = arguments.string("latency-table") {
            request.latencyTable = try LatencyTable.parse(try readFile(path, what: "latency table"), source: path)
        }
        return request
    }

    private static func parseBits(_ text: String, separator: Character, flag: String) throws -> [Int] {
        try text.split(separator: separator, omittingEmptySubsequences: false).map { part in
            guard let b = Int(part.trimmingCharacters(in: .whitespaces)) else {
                throw CommandFailure(.usage, "\(flag): '\(part)' is not a bit width; give integers in 1...16 separated by '\(separator)'")
            }
            return b
        }
    }
}
