import Foundation
import HutchAllocation

// Prints the two timings the allocation issue asks for, each with its ratio to the 1 s target:
//  1. exact allocation, 200 layers × 7 candidate widths × 3 budgets (size, BOPs, latency);
//  2. the size-vs-Ω Pareto frontier of a ResNet-50-shaped model (54 layers × 6 widths).
// Inputs are synthetic but shaped like real ones (conv shapes, errors falling ~4× per bit,
// log-uniform traces, latency rising with MACs × bits); seeds are fixed. Build with -c release.
// `AllocationBenchmark --dump-milp DIR` also writes each 200×7×3 instance (Ω and the three costs
// per layer and width, the budget limits) with Hutch's optimum and time as DIR/NAME.json, for
// Benchmarks/reference/allocation_highs.py to solve the same instances with HiGHS.

let dumpDirectory: String? = CommandLine.arguments.firstIndex(of: "--dump-milp").flatMap {
    $0 + 1 < CommandLine.arguments.count ? CommandLine.arguments[$0 + 1] : nil
}
if let dumpDirectory { try FileManager.default.createDirectory(atPath: dumpDirectory, withIntermediateDirectories: true) }

/// One instance as plain arrays (no Hutch types), so that another solver can read it.
func dump(_ problem: AllocationProblem, _ allocation: Allocation, seconds: Double, name: String) throws {
    guard let dumpDirectory else { return }
    var costs: [String: [[Double]]] = [:]
    for budget in problem.budgets {
        costs[budget.kind.rawValue] = problem.layers.map { l in l.candidates.map { problem.cost(budget.kind, $0) ?? .nan } }
    }
    let document: [String: Any] = [
        "name": name,
        "bits": problem.layers.map { $0.candidates.map(\.bits) },
        "omega": problem.layers.map { $0.candidates.map(\.omega) },
        "costs": costs,
        "limits": Dictionary(uniqueKeysWithValues: problem.budgets.map { ($0.kind.rawValue, $0.limit) }),
        "hutch_bits": allocation.bits,
        "hutch_omega": allocation.totals.omega,
        "hutch_seconds": seconds,
        "hutch_proven_optimal": allocation.provenOptimal,
    ]
    try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])
        .write(to: URL(fileURLWithPath: dumpDirectory).appendingPathComponent("\(name).json"))
}

struct Generator {
    var state: UInt64
    mutating func unit() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
    }
}

func layer(_ index: Int, _ shape: [Int], spatial: Int, widths: [Int], rng: inout Generator) -> SensitivityReport.Layer {
    let params = shape.reduce(1, *)
    let macs = params * spatial * spatial
    let trace = exp(rng.unit() * 10 - 5)
    let range = 0.5 + rng.unit()
    var errors: [String: Double] = [:]
    for b in widths { errors[String(b)] = Double(params) * range * range * pow(4, -Double(b)) * (0.8 + 0.4 * rng.unit()) }
    return SensitivityReport.Layer(index: index, node: "/layer\(index)/Conv", weight: "w\(index)", op: "Conv", shape: shape,
                                   parameters: params, macs: macs, trace: trace, tracePerParameter: trace / Double(params),
                                   standardError: nil, probes: nil, exact: true, method: "exact",
                                   quantizationError: errors)
}

func report(_ layers: [SensitivityReport.Layer], widths: [Int]) -> SensitivityReport {
    SensitivityReport(job: .init(modelDigest: "sha256:benchmark", samples: 128, method: "exact", toolVersion: "benchmark"),
                      quantization: .init(scheme: "symmetric_per_channel_minmax", bits: widths), layers: layers)
}

func time<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let start = DispatchTime.now().uptimeNanoseconds
    let value = try body()
    return (value, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
}

func line(_ label: String, _ seconds: Double, _ detail: String) {
    print(String(format: "%@: %.4f s (%.1f%% of the 1 s target, %.1f× under it)  %@", label, seconds, seconds * 100, 1 / seconds, detail))
}

// 1. 200 layers × 7 widths × 3 budgets: three random models and one with only four distinct layer
// shapes (deep ResNets repeat blocks; repeated costs make many near-equal allocations), five budget
// mixes each; the slowest counts.
var worst = 0.0
for seed in [42 as UInt64, 43, 44, 45] { do {
    let widths = [2, 3, 4, 5, 6, 7, 8]
    var rng = Generator(state: seed)
    let channels = seed == 45 ? [64, 128] : [16, 32, 64, 128, 256]
    var layers: [SensitivityReport.Layer] = []
    for i in 0 ..< 200 {
        let cout = channels[Int(rng.unit() * Double(channels.count))], cin = channels[Int(rng.unit() * Double(channels.count))]
        let k = rng.unit() < 0.3 ? 1 : 3
        let spatial = seed == 45 ? 16 : [8, 16, 32, 56][Int(rng.unit() * 4)]
        layers.append(layer(i, [cout, cin, k, k], spatial: spatial, widths: widths, rng: &rng))
    }
    var entries: [String: [Int: Double]] = [:]
    for l in layers {
        for b in widths { entries[l.node, default: [:]][b] = (0.01 + Double(l.macs!) * Double(b) * 8e-10) * (seed == 45 ? 1 : 0.9 + 0.2 * rng.unit()) }
    }
    let table = LatencyTable(entries: entries)
    let rep = report(layers, widths: widths)
    let params = Double(layers.reduce(0) { $0 + $1.parameters })
    let macs = Double(layers.reduce(0) { $0 + $1.macs! })
    let latencyLow = layers.reduce(0.0) { $0 + entries[$1.node]![2]! }, latencyHigh = layers.reduce(0.0) { $0 + entries[$1.node]![8]! }
    for (size, bops, latency) in [(0.5, 0.6, 0.55), (0.3, 0.35, 0.4), (0.7, 0.6, 0.65), (0.45, 0.5, 0.4), (0.6, 0.4, 0.5)] {
        let request = AllocationRequest(bits: widths, budgets: [
            .averageBits(2 + 6 * size),
            .gigaBOPs(macs * 8 * (2 + 6 * bops) / 1e9),
            .latencyMilliseconds(latencyLow + latency * (latencyHigh - latencyLow)),
        ], ties: .none, latencyTable: table)
        let problem = try AllocationProblem(report: rep, request: request)
        let (allocation, seconds) = try time { try problem.solve(.exact) }
        worst = max(worst, seconds)
        line(String(format: "exact 200×7×3 seed %d (fractions %.2f/%.2f/%.2f)", Int(seed), size, bops, latency), seconds,
             "Ω \(String(format: "%.6g", allocation.totals.omega)), proven \(allocation.provenOptimal), \(allocation.work) nodes")
        try dump(problem, allocation, seconds: seconds, name: String(format: "seed%d-%.2f-%.2f-%.2f", Int(seed), size, bops, latency))
    }
    _ = params
    // One budget (Pareto DP) on the same model, for reference.
    let one = try AllocationProblem(report: rep, request: AllocationRequest(bits: widths, budgets: [.averageBits(4.5)], ties: .none))
    let (single, dpSeconds) = try time { try one.solve(.exact) }
    line("exact 200×7×1 seed \(seed) (--avg-bits 4.5)", dpSeconds, "\(single.algorithm), \(single.work) states")
    let latencyOnly = try AllocationProblem(report: rep, request: AllocationRequest(
        bits: widths, budgets: [.latencyMilliseconds(latencyLow + 0.5 * (latencyHigh - latencyLow))], ties: .none, latencyTable: table))
    let (byLatency, latencySeconds) = try time { try latencyOnly.solve(.exact) }
    line("exact 200×7×1 seed \(seed) (latency only, real-valued costs)", latencySeconds, "\(byLatency.algorithm), \(byLatency.work) states")
} catch {
    print("exact benchmark failed: \(error)")
} }
line("exact 200×7×3, slowest of 20", worst, "")

// 2. ResNet-50 shapes (54 conv/fc layers), 6 widths: the whole frontier from one DP pass.
do {
    let widths = [2, 3, 4, 5, 6, 8]
    var rng = Generator(state: 7)
    var layers: [SensitivityReport.Layer] = []
    func add(_ shape: [Int], _ spatial: Int) { layers.append(layer(layers.count, shape, spatial: spatial, widths: widths, rng: &rng)) }
    add([64, 3, 7, 7], 112)
    var inChannels = 64
    for (stage, (blocks, width, spatial)) in [(3, 64, 56), (4, 128, 28), (6, 256, 14), (3, 512, 7)].enumerated() {
        for block in 0 ..< blocks {
            add([width, inChannels, 1, 1], spatial)
            add([width, width, 3, 3], spatial)
            add([width * 4, width, 1, 1], spatial)
            if block == 0 { add([width * 4, inChannels, 1, 1], spatial) }   // downsample shortcut
            inChannels = width * 4
        }
        _ = stage
    }
    add([1000, 2048], 1)
    precondition(layers.count == 54)
    let problem = try AllocationProblem(report: report(layers, widths: widths), request: AllocationRequest(bits: widths, ties: .none))
    let (frontier, seconds) = time { problem.frontier() }
    line("frontier ResNet-50 54×6", seconds, "\(frontier.count) Pareto-optimal points")
} catch {
    print("frontier benchmark failed: \(error)")
}
