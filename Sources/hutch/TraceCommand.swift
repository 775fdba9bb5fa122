import Foundation
import HutchAllocation
import HutchModel
import HutchSensitivity
import HutchTensor

/// `hutch trace`: per-layer Hessian traces (exact or Hutchinson) and quantization errors,
/// written as sensitivity.json (Protocols/sensitivity.schema.json).
struct TraceCommand: Command {
    static let name = "trace"
    static let summary = "measure each layer's Hessian trace and quantization errors (sensitivity.json)"
    static let usage = """
        [--model M.onnx] [--data D.npz | --inputs X.npy --labels Y.npy] [--samples N] [--batch-size B] \
        [--method auto|exact|hutchinson] [--mode joint|layer] [--probes P | --tol T --max-probes P] [--seed S] \
        [--probes-per-call K] [--threads T] [--eigen] [--bits 2,3,4,5,6,8] --out sensitivity.json
        """
    static let flags: [Arguments.Flag] = [
        .option("model", "PATH", "ONNX classifier (default: the embedded example Examples/digits_resnet.onnx)"),
        .option("data", "PATH", ".npz with arrays x (inputs) and y (labels) (default with no --model: Examples/digits.npz)"),
        .option("inputs", "PATH", "inputs as .npy (with --labels), instead of --data"),
        .option("labels", "PATH", "integer labels as .npy (with --inputs)"),
        .option("samples", "N", "use the first N examples (default: all)"),
        .option("batch-size", "B", "examples per batch (default 128); the dataset Hessian is the example-weighted mean"),
        .option("method", "NAME", "auto (exact when the net is piecewise linear, default), exact or hutchinson"),
        .option("mode", "NAME", "Hutchinson probes: joint (one HVP for all layers, default) or layer (one per layer)"),
        .option("probes", "P", "Hutchinson: exactly P probes"),
        .option("tol", "T", "Hutchinson: add rounds of 10 probes until every layer's relative standard error ≤ T (default 0.05)"),
        .option("max-probes", "P", "Hutchinson: at most P probes per layer with --tol (default 200)"),
        .option("seed", "S", "probe generator seed (default 0)"),
        .option("probes-per-call", "K", "Hutchinson: probes stacked in one Hessian-vector pass and one task (default 4); "
                    + "8 is ~7 % faster per probe on ResNet-20, fewer gives a cluster more tasks per round; "
                    + "results do not depend on it"),
        .option("threads", "T", "compute threads (default: all cores); results do not depend on it"),
        .toggle("eigen", "also estimate each layer's top Hessian eigenvalue by power iteration (HAWQ-V1)"),
        .option("bits", "LIST", "widths for quantization_error, comma separated (default 2,3,4,5,6,8; 'none' for none)"),
        .option("out", "PATH", "where to write sensitivity.json (required)"),
    ]

    static func run(_ arguments: Arguments) throws {
        let outPath = try arguments.required("out")
        if let threads = try arguments.int("threads", range: 1...1024) {
            Kernels.setThreads(threads)   // before any computation
        }
        let options = try makeOptions(arguments)
        let inputs = try TraceInputs.locate(arguments)
        let modelBytes = [UInt8](try readFile(inputs.model, what: "model"))
        let graph = try ONNXLoader.load(bytes: modelBytes, source: inputs.model)
        let (dataset, dataDigest) = try inputs.loadData()
        try dataset.validate(against: graph, modelName: inputs.model)
        log("trace: \(inputs.model) on \(min(options.samples ?? dataset.count, dataset.count)) of \(dataset.count) examples from \(inputs.dataDescription)")

        var reporter = ProgressReporter()
        let result = try SensitivityAnalysis.run(graph: graph, dataset: dataset, options: options) { reporter.update($0) }
        reporter.finish()
        if let reason = result.fallbackReason {
            log("method auto: Hutchinson, because exact traces do not apply: \(reason)")
        }
        let report = makeReport(result, options: options, modelDigest: Digest.sha256(modelBytes), dataDigest: dataDigest)
        try report.validate(source: outPath)
        try writeAtomically(try report.encoded(), to: outPath)
        print(summary(result, outPath: outPath))
    }

    static func makeOptions(_ arguments: Arguments) throws -> TraceOptions {
        var options = TraceOptions()
        if let text = arguments.string("method") {
            guard let method = TraceOptions.Method(rawValue: text) else {
                throw CommandFailure(.usage, "--method must be auto, exact or hutchinson, got '\(text)'")
            }
            options.method = method
        }
        if let text = arguments.string("mode") {
            guard let mode = ProbeMode(rawValue: text) else {
                throw CommandFailure(.usage, "--mode must be joint or layer, got '\(text)'")
            }
            options.mode = mode
        }
        let hutchinsonFlags = ["mode", "probes", "tol", "max-probes", "probes-per-call"].filter { arguments.has($0) }
        if options.method == .exact, let flag = hutchinsonFlags.first {
            throw CommandFailure(.usage, "--\(flag) applies to Hutchinson probes, not to --method exact")
        }
        if arguments.has("probes") && (arguments.has("tol") || arguments.has("max-probes")) {
            throw CommandFailure(.usage, "give either --probes P (a fixed count) or --tol T / --max-probes P (adaptive), not both")
        }
        options.probes = try arguments.int("probes", range: 2...1_000_000)
        if let tol = try arguments.double("tol") {
            guard tol > 0 else { throw CommandFailure(.usage, "--tol must be positive, got \(tol)") }
            options.tolerance = tol
        }
        if let maxProbes = try arguments.int("max-probes", range: 2...1_000_000) { options.maxProbes = maxProbes }
        if let seed = try arguments.int("seed", range: 0...Int.max) { options.seed = UInt64(seed) }
        if let k = try arguments.int("probes-per-call", range: 1...256) { options.probesPerCall = k }
        options.samples = try arguments.int("samples", range: 1...Int.max)
        if let batch = try arguments.int("batch-size", range: 1...1_000_000) { options.batchSize = batch }
        options.eigenvalues = arguments.has("eigen")
        if let text = arguments.string("bits") {
            options.bits = try parseBitList(text)
        }
        return options
    }

    static func parseBitList(_ text: String) throws -> [Int] {
        if text == "none" { return [] }
        var bits: [Int] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let b = Int(part.trimmingCharacters(in: .whitespaces)), (1...16).contains(b) else {
                throw CommandFailure(.usage, "--bits: '\(part)' is not a bit width; give integers in 1...16 separated by ',' (or 'none')")
            }
            if !bits.contains(b) { bits.append(b) }
        }
        return bits.sorted()
    }

    static func makeReport(_ result: SensitivityResult, options: TraceOptions, modelDigest: String,
                           dataDigest: String?) -> SensitivityReport {
        let job = result.job
        let hutchinson = job.method == .hutchinson
        let layers = result.layers.map { s -> SensitivityReport.Layer in
            var trace = s.trace
            if trace < 0 {
                // sensitivity.json holds traces >= 0 (a plan needs them); say what was measured
                let se = s.standardError.map { " ± \($0)" } ?? ""
                log("warning: layer '\(s.layer.nodeName)': measured trace \(trace)\(se) is negative (its Hessian block is indefinite); written as 0")
                trace = 0
            }
            return SensitivityReport.Layer(
                index: s.index, node: s.layer.nodeName, weight: s.layer.weightName, op: s.layer.opType,
                shape: s.layer.shape, parameters: s.layer.parameterCount, macs: s.layer.macsPerExample,
                trace: trace, tracePerParameter: trace / Double(s.layer.parameterCount),
                standardError: s.standardError ?? (hutchinson ? 0 : nil), probes: s.probes, exact: s.exact,
                method: s.method.rawValue, topEigenvalue: s.topEigenvalue,
                quantizationError: s.quantizationErrors.map { errors in
                    Dictionary(uniqueKeysWithValues: errors.map { (String($0.key), $0.value) })
                },
                tieGroup: s.tieGroup)
        }
        return SensitivityReport(
            job: .init(modelDigest: modelDigest, dataDigest: dataDigest, samples: job.samples, batchSize: job.batchSize,
                       seed: hutchinson || options.eigenvalues ? job.seed : nil, method: job.method.rawValue,
                       mode: hutchinson ? job.mode.rawValue : nil, toolVersion: hutchVersion),
            quantization: options.bits.isEmpty ? nil : .init(scheme: QuantizationErrors.scheme, bits: options.bits),
            layers: layers)
    }

    static func summary(_ result: SensitivityResult, outPath: String) -> String {
        var lines = ["layer                                  trace          ± s.e.      probes  trace/param"]
        for s in result.layers {
            let name = s.layer.nodeName.count > 36 ? "…" + s.layer.nodeName.suffix(35) : s.layer.nodeName
            let se = s.standardError.map { String(format: "%10.3e", $0) } ?? "     exact"
            let probes = s.probes.map { String(format: "%6d", $0) } ?? "     -"
            lines.append(name.padding(toLength: 36, withPad: " ", startingAt: 0)
                         + String(format: "  %12.5e  %@  %@  %11.4e", s.trace, se, probes, s.trace / Double(s.layer.parameterCount)))
        }
        lines.append("\(result.layers.count) layers, method \(result.job.method.rawValue), \(result.job.samples) examples → \(outPath)")
        return lines.joined(separator: "\n")
    }
}

/// Where the model and data come from: the flags, or the embedded example.
struct TraceInputs {
    var model: String
    var data: DataSource
    enum DataSource {
        case npz(String, embedded: Bool)
        case npy(inputs: String, labels: String)
    }

    var dataDescription: String {
        switch data {
        case .npz(let path, _): return path
        case .npy(let x, let y): return "\(x) + \(y)"
        }
    }

    static func locate(_ arguments: Arguments) throws -> TraceInputs {
        let dataFlag = arguments.string("data")
        let inputsFlag = arguments.string("inputs"), labelsFlag = arguments.string("labels")
        if dataFlag != nil && (inputsFlag != nil || labelsFlag != nil) {
            throw CommandFailure(.usage, "give either --data D.npz or --inputs X.npy --labels Y.npy, not both")
        }
        if (inputsFlag == nil) != (labelsFlag == nil) {
            throw CommandFailure(.usage, "--inputs and --labels go together: give both .npy files")
        }
        var data: DataSource?
        if let dataFlag { data = .npz(dataFlag, embedded: false) }
        if let inputsFlag, let labelsFlag { data = .npy(inputs: inputsFlag, labels: labelsFlag) }
        guard let model = arguments.string("model") else {
            let examples = try exampleDirectory()
            return TraceInputs(model: examples.appendingPathComponent("digits_resnet.onnx").path,
                               data: data ?? .npz(examples.appendingPathComponent("digits.npz").path, embedded: true))
        }
        guard let data else {
            throw CommandFailure(.usage, "--model needs calibration data: --data D.npz (arrays x, y) or --inputs X.npy --labels Y.npy")
        }
        return TraceInputs(model: model, data: data)
    }

    /// Examples/ in the working directory, or next to the repository the executable was built in
    /// (.build/<config>/hutch → ../../Examples), or beside an installed binary.
    static func exampleDirectory() throws -> URL {
        let fm = FileManager.default
        var candidates = [URL(fileURLWithPath: fm.currentDirectoryPath).appendingPathComponent("Examples")]
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = executable.deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(directory.appendingPathComponent("Examples"))
            candidates.append(directory.appendingPathComponent("share/hutch/Examples"))
            directory = directory.deletingLastPathComponent()
        }
        for candidate in candidates
        where fm.fileExists(atPath: candidate.appendingPathComponent("digits_resnet.onnx").path)
            && fm.fileExists(atPath: candidate.appendingPathComponent("digits.npz").path) {
            return candidate
        }
        throw CommandFailure(.io, "the embedded example (Examples/digits_resnet.onnx and Examples/digits.npz) was not found in the working directory or next to the hutch executable; run from the repository root or give --model M.onnx --data D.npz")
    }

    /// The data set and its digest (nil for the embedded example, as the schema says).
    func loadData() throws -> (Dataset, String?) {
        switch data {
        case .npz(let path, let embedded):
            let bytes = [UInt8](try readFile(path, what: "data"))
            return (try Dataset(npz: bytes, source: path), embedded ? nil : Digest.sha256(bytes))
        case .npy(let inputsPath, let labelsPath):
            // digest of the two files' bytes, inputs first
            let xBytes = [UInt8](try readFile(inputsPath, what: "inputs")), yBytes = [UInt8](try readFile(labelsPath, what: "labels"))
            let dataset = try Dataset(inputs: try NumPyArray(npy: xBytes, source: inputsPath),
                                      labels: try NumPyArray(npy: yBytes, source: labelsPath),
                                      inputsName: inputsPath, labelsName: labelsPath)
            return (dataset, Digest.sha256(xBytes + yBytes))
        }
    }
}

/// Progress on stderr: one rewritten line with ETA on a terminal, a plain log line every few
/// seconds (and at the end of each phase) otherwise.
struct ProgressReporter {
    let terminal = isatty(STDERR_FILENO) == 1
    var phase = ""
    var phaseStart = Date()
    var lastLine = Date.distantPast
    var lineOpen = false

    mutating func update(_ p: AnalysisProgress) {
        let now = Date()
        if p.phase != phase {
            phase = p.phase
            phaseStart = now
        }
        let elapsed = now.timeIntervalSince(phaseStart)
        let finished = p.done >= p.total
        var eta = ""
        if p.done > 0, !finished {
            let seconds = elapsed / Double(p.done) * Double(p.total - p.done)
            eta = ", ETA " + Self.clock(seconds)
        }
        let percent = p.total > 0 ? 100 * p.done / p.total : 100
        let text = "\(p.phase): \(p.done)/\(p.total) (\(percent) %)\(eta); \(p.detail)"
        if terminal {
            guard finished || now.timeIntervalSince(lastLine) >= 0.1 else { return }
            FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
            lineOpen = true
            if finished && p.phase.hasSuffix("done") { FileHandle.standardError.write(Data("\n".utf8)); lineOpen = false }
        } else {
            guard now.timeIntervalSince(lastLine) >= 5 || (finished && (p.phase.hasSuffix("done") || !p.phase.hasPrefix("Hutchinson"))) else { return }
            log(text)
        }
        lastLine = now
    }

    mutating func finish() {
        if lineOpen { FileHandle.standardError.write(Data("\n".utf8)) }
        lineOpen = false
    }

    static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
