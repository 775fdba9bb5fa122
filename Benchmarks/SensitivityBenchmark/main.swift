// Sensitivity benchmark (issue 3, "Performance"): Hutch's Hutchinson joint-mode probe and exact
// per-layer traces on a ResNet-20 batch of 128, against the PyTorch double-backprop reference
// (Benchmarks/reference/resnet20_pyhessian.py, whose JSON this reads), and a plain cblas_sgemm
// measured in the same run. Prints ratios; asserts nothing (benchmarks never time-assert; Benchmarks/README.md).
//
//   Benchmarks/run_sensitivity.sh            (makes the model, batch and PyTorch timings, then runs this)
//   SensitivityBenchmark --model M.onnx --data D.npz [--torch pytorch.json] [--threads T] [--probes P] [--out hutch.json]
//                        [--only exact]   (only the exact-mode timings, to iterate on exact mode)
//                        [--only probes [--per-call K]]   (only Hutchinson probes, K per call, to profile them)
//                        [--memory GB]   (Hutchinson under `hutch trace --memory GB`: prints the chunk plan, CPU
//                                         seconds per probe and the peak RSS)
//   SensitivityBenchmark --only error-sweep   (no model: ‖Q_b(W) − W‖² for b = 1…8 of a 256×256×3×3 weight,
//                                              min-max and MSE-optimal clipping, as `hutch trace --bits` computes)
import CBLAS
import Foundation
import HutchModel
import HutchQuantize
import HutchSensitivity
import HutchTensor

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("SensitivityBenchmark: \(message)\n".utf8))
    exit(2)
}

var flags: [String: String] = [:]
var argv = Array(CommandLine.arguments.dropFirst())
while let flag = argv.first {
    guard flag.hasPrefix("--"), argv.count >= 2 else { fail("usage: --model M.onnx --data D.npz [--torch J] [--threads T] [--probes P] [--out O]") }
    flags[String(flag.dropFirst(2))] = argv[1]
    argv.removeFirst(2)
}
let threads = Int(flags["threads"] ?? "2") ?? 2
setenv("HUTCH_THREADS", String(threads), 1)   // before the kernels read it
let timedProbes = max(2, Int(flags["probes"] ?? "8") ?? 8)
let onlyExact = flags["only"] == "exact"
/// `--only probes`: just the Hutchinson probes at `--per-call K` (default 8) probes per call, to profile them.
let onlyProbes = flags["only"] == "probes"

/// `--only error-sweep`: the per-layer quantization-error sweep that `hutch trace --bits` runs for
/// every layer, on one large conv weight (256×256×3×3, 589,824 values, per-output-channel,
/// symmetric) with seeded uniform values: min-max ranges and MSE-optimal clipping (100
/// candidate ratios), each timed 5 times on one thread (the sweep is single-threaded per layer).
if flags["only"] == "error-sweep" {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    func uniform() -> Float {   // SplitMix64, values in [-0.5, 0.5)
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Float((z ^ (z >> 31)) >> 40) / Float(1 << 24) - 0.5
    }
    let shape = [256, 256, 3, 3]
    let weight = Tensor<Float>(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in uniform() })
    print("error sweep, widths 1-8, weight \(shape.map(String.init).joined(separator: "x")) (\(weight.data.count) values), 5 runs each")
    for (name, range) in [("min-max", RangeMethod.minMax), ("MSE clipping (100 candidates)", RangeMethod.mse)] {
        var times: [Double] = []
        for _ in 0..<5 {
            let start = now()
            let errors = try WeightQuantizer.squaredErrors(weight, bits: Array(1...8), config: WeightQuantizerConfig(range: range))
            times.append(now() - start)
            precondition(errors.count == 8)
        }
        print(String(format: "  %@: min %.3f s, median %.3f s", name, times.min()!, median(times)))
    }
    exit(0)
}
guard let modelPath = flags["model"], let dataPath = flags["data"] else { fail("--model and --data are required") }

func now() -> Double { Date().timeIntervalSinceReferenceDate }
/// Process CPU seconds (user + system): steadier than wall time on a shared machine.
func cpuNow() -> Double {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
}
/// Minor page faults so far: fresh (not pooled) buffers show up here.
func pageFaults() -> Int {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return u.ru_minflt
}
func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.isEmpty ? .nan : (s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2)
}

/// GFLOP/s of cblas_sgemm on 1024^3 with OpenBLAS at `blasThreads` threads.
func sgemmGFLOPs(blasThreads: Int32) -> Double {
    openblas_set_num_threads(blasThreads)
    let n = 1024
    let a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 0.25, count: n * n)
    var c = [Float](repeating: 0, count: n * n)
    func run() {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1, a, Int32(n), b, Int32(n), 0, &c, Int32(n))
    }
    run(); run()
    var times: [Double] = []
    for _ in 0..<7 { let t = now(); run(); times.append(now() - t) }
    return 2 * Double(n * n * n) / median(times) / 1e9
}

do {
    let graph = try ONNXLoader.load(contentsOf: URL(fileURLWithPath: modelPath))
    let dataset = try Dataset(npz: URL(fileURLWithPath: dataPath))
    try dataset.validate(against: graph, modelName: modelPath)
    let layers = graph.quantizableLayers
    let n = dataset.count
    let macs = layers.compactMap(\.macsPerExample).reduce(0, +)
    let gemmT = onlyExact ? .nan : sgemmGFLOPs(blasThreads: Int32(threads))
    let gemm1 = onlyExact ? .nan : sgemmGFLOPs(blasThreads: 1)
    openblas_set_num_threads(1)   // what the kernels use (they thread over examples themselves)
    _ = Kernels.configuredThreads   // sets OpenBLAS to one thread before the sgemm reference
    print("model \(modelPath): \(layers.count) layers, \(layers.map(\.parameterCount).reduce(0, +)) weights, \(macs) MACs/example; batch \(n); \(Kernels.threads) threads")
    print(String(format: "cblas_sgemm 1024^3: %.1f GFLOP/s (%d OpenBLAS threads), %.1f GFLOP/s (1 thread)", gemmT, threads, gemm1))

    // Hutchinson, joint mode: one task = k probes over the whole batch, k stacked in one HVP call
    let job = try SensitivityJob(method: .hutchinson, mode: .joint, seed: 0, samples: n, batchSize: n, layerCount: layers.count)
    var runner = try TaskRunner(graph: graph, dataset: dataset, job: job)
    if let gb = flags["memory"].flatMap(Double.init) {
        runner.memoryBytes = Int(gb * 1e9)
        print("--memory \(gb) GB: " + (try runner.hutchinsonPlan()).summary)
    }
    var perProbe: [Int: (median: Double, min: Double)] = [:]
    var nextProbe = 0
    for k in onlyExact ? [] : onlyProbes ? [Int(flags["per-call"] ?? "8") ?? 8] : [1, 2, 4, 8] {
        runner.probesPerCall = k
        func task() -> SensitivityTask {
            defer { nextProbe += k }
            return SensitivityTask(batches: 0..<1, probes: nextProbe..<(nextProbe + k), groups: 0..<1)
        }
        _ = try runner.run(task())   // warm-up (buffer pool, page faults)
        var times: [Double] = [], cpu: [Double] = []
        for _ in 0..<max(1, timedProbes / k) {
            let (t, c) = (now(), cpuNow())
            _ = try runner.run(task())
            times.append((now() - t) / Double(k)); cpu.append((cpuNow() - c) / Double(k))
        }
        perProbe[k] = (median(times), times.min() ?? .nan)
        print(String(format: "Hutch joint Hutchinson, %d probe(s) per HVP call: %.3f s/probe (median), %.3f min", k, perProbe[k]!.median, perProbe[k]!.min))
        if flags["memory"] != nil {
            var u = rusage()
            getrusage(RUSAGE_SELF.rawValue, &u)
            print(String(format: "  CPU %.3f s/probe (median); peak RSS so far %.0f MB", median(cpu), Double(u.ru_maxrss) / 1024))
        }
    }
    let best = perProbe.min { $0.value.median < $1.value.median } ?? (key: 0, value: (median: Double.nan, min: Double.nan))
    // nominal FLOPs per probe: tangent sweep 2 x forward (x'W and xV), adjoint tangent 2 x forward
    // (transpose of dg' and the conv_transpose(g, V) curvature term); weight-gradient GEMMs skipped
    let probeFLOPs = 4.0 * 2.0 * Double(macs) * Double(n)
    print(String(format: "  best: %d per call, %.3f s/probe = %.1f GFLOP/s nominal (4 x forward FLOPs per probe) = %.0f %% of sgemm at %d threads",
                 best.key, best.value.median, probeFLOPs / best.value.median / 1e9, 100 * probeFLOPs / best.value.median / 1e9 / gemmT, threads))

    if onlyProbes { exit(0) }
    // exact per-layer traces of every layer: one task over the whole batch
    let exactJob = try SensitivityJob(method: .exact, samples: n, batchSize: n, layerCount: layers.count)
    let exactRunner = try TaskRunner(graph: graph, dataset: dataset, job: exactJob)
    let all = SensitivityTask(batches: 0..<1, probes: 0..<0, groups: 0..<exactJob.layerGroups.count)
    let exactResult = try exactRunner.run(all)
    var exactTimes: [Double] = [], exactCPU: [Double] = []
    let faults0 = pageFaults()
    for _ in 0..<(onlyExact ? 5 : 3) {
        let (t, c) = (now(), cpuNow())
        _ = try exactRunner.run(all)
        exactTimes.append(now() - t); exactCPU.append(cpuNow() - c)
    }
    let exact = median(exactTimes)
    print(String(format: "Hutch exact traces, all %d layers: %.3f s (median of %d), %.3f min; CPU %.3f s (median), %.3f min; %d page faults per run",
                 layers.count, exact, exactTimes.count, exactTimes.min()!, median(exactCPU), exactCPU.min()!,
                 (pageFaults() - faults0) / exactTimes.count))

    // where exact time goes: the forward pass alone, and the stacked reverse passes at several widths
    let (x, _) = exactRunner.batch(0)
    let weights = layers.map(\.weight)
    var forwardTimes: [Double] = []
    for _ in 0..<3 { let t = now(); _ = try exactRunner.executor.logits(x); forwardTimes.append(now() - t) }
    print(String(format: "  forward pass alone: %.3f s (%.1f GFLOP/s)", median(forwardTimes), 2 * Double(macs * n) / median(forwardTimes) / 1e9))
    for seedsPerPass in onlyExact ? [] : [1, 4, 8, 9] {
        var times: [Double] = []
        for _ in 0..<2 {
            let t = now()
            _ = try exactRunner.executor.exactHessianTraceSums(input: x, layers: weights, maxStackedExamples: seedsPerPass * n)
            times.append(now() - t)
        }
        print(String(format: "  exactHessianTraceSums with at most %d of the C - 1 = 9 seeds per reverse pass: %.3f s", seedsPerPass, median(times)))
    }

    var out: [String: Any] = [
        "threads": threads, "batch": n, "layers": layers.count, "macs_per_example": macs,
        "sgemm_gflops": gemmT, "sgemm_gflops_1_thread": gemm1,
        "hutchinson_seconds_per_probe": Dictionary(uniqueKeysWithValues: perProbe.map { (String($0.key), $0.value.median) }),
        "hutchinson_best_probes_per_call": best.key, "hutchinson_best_seconds_per_probe": best.value.median,
        "hvp_nominal_gflops": probeFLOPs / best.value.median / 1e9,
        "exact_seconds": exact, "exact_trace_sums": exactResult.values,
    ]
    if let torchPath = flags["torch"] {
        let data = try Data(contentsOf: URL(fileURLWithPath: torchPath))
        guard let torch = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let hvp = torch["hvp_seconds_per_probe"] as? Double, let full = torch["full_seconds_per_probe"] as? Double,
              let torchThreads = torch["threads"] as? Int else { fail("\(torchPath): not a pytorch.json from resnet20_pyhessian.py") }
        if let gemm = torch["torch_sgemm_1024_gflops"] as? Double, gemm < 0.6 * 183 {
            print(String(format: "warning: PyTorch's GEMM ran at %.0f GFLOP/s (about 183 on an idle 2-core machine): it shared the CPU; re-run both", gemm))
        }
        if torchThreads != threads { print("warning: PyTorch ran with \(torchThreads) threads, Hutch with \(threads)") }
        let probeRatio = hvp / best.value.median
        let exactRatio = 100 * hvp / exact
        print(String(format: "PyTorch (%@): %.3f s/probe double backprop, %.3f s/probe forward+backward+double backprop; torch GEMM %.1f GFLOP/s",
                     torch["torch_version"] as? String ?? "?", hvp, full, torch["torch_sgemm_1024_gflops"] as? Double ?? .nan))
        print(String(format: "RATIO Hutchinson per probe, PyTorch time / Hutch time: %.2fx vs double backprop (required >= 2, aim 3); %.2fx vs forward+backward+double backprop",
                     probeRatio, full / best.value.median))
        if let atDefault = perProbe[4] {   // what `hutch trace` runs without --probes-per-call
            print(String(format: "RATIO Hutchinson per probe at hutch trace's default 4 probes per call: %.2fx vs double backprop",
                         hvp / atDefault.median))
        }
        print(String(format: "RATIO exact traces, time of 100 PyTorch probes / Hutch exact time: %.1fx (required >= 20)", exactRatio))
        if let forward = torch["forward_seconds"] as? Double {
            print(String(format: "PyTorch forward pass alone: %.3f s (Hutch's forward / PyTorch's: %.1fx)", forward, median(forwardTimes) / forward))
        }
        out["pytorch_hvp_seconds_per_probe"] = hvp
        out["pytorch_full_seconds_per_probe"] = full
        out["ratio_probe"] = probeRatio
        out["ratio_exact_vs_100_probes"] = exactRatio
    }
    if let outPath = flags["out"] {
        out = out.filter { ($0.value as? Double)?.isFinite ?? true }   // JSON has no NaN (skipped timings)
        try JSONSerialization.data(withJSONObject: out, options: [.prettyPrinted, .sortedKeys]).write(to: URL(fileURLWithPath: outPath))
    }
} catch {
    fail("\(error)")
}
