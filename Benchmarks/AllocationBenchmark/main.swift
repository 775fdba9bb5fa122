import Foundation
import HutchAllocation

// Temporary speed probe on raw knapsack instances.
nonisolated(unsafe) var state: UInt64 = 42
func next() -> Double {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
}
let bits = [2, 3, 4, 5, 6, 7, 8]
var items: [[KnapsackChoice]] = []
for _ in 0 ..< 200 {
    let cout = [16, 32, 64, 128, 256][Int(next() * 5)]
    let cin = [16, 32, 64, 128, 256][Int(next() * 5)]
    let k = next() < 0.3 ? 1 : 9
    let params = Double(cout * cin * k)
    let hw = Double([8, 16, 32, 56][Int(next() * 4)])
    let macs = params * hw * hw
    let trace = exp(next() * 8 - 4)
    let range = 0.5 + next()
    items.append(bits.map { b in
        let err = params * range * range * pow(2, -2 * Double(b)) * (0.8 + 0.4 * next())
        let latency = (0.01 + macs * Double(b) * 8 * 1e-10) * (0.9 + 0.2 * next())
        return KnapsackChoice(value: trace / params * err, weights: [params * Double(b), macs * Double(b) * 8, latency])
    })
}
let lo = (0 ..< 3).map { d in items.reduce(0.0) { $0 + $1.map { $0.weights[d] }.min()! } }
let hi = (0 ..< 3).map { d in items.reduce(0.0) { $0 + $1.map { $0.weights[d] }.max()! } }
for frac in [(0.5, 0.6, 0.55), (0.3, 0.35, 0.4), (0.7, 0.6, 0.65)] {
    let f = [frac.0, frac.1, frac.2]
    let caps = (0 ..< 3).map { lo[$0] + f[$0] * (hi[$0] - lo[$0]) }
    let instance = KnapsackInstance(items: items, capacities: caps)
    if f[0] == 0.5 {
        let json: [String: Any] = ["caps": caps, "items": items.map { $0.map { [$0.value] + $0.weights } }]
        try! JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: "/tmp/alloc_inst.json"))
    }
    let t0 = Date()
    let greedy = instance.solveGreedy()
    let result = instance.solveBranchAndBound(incumbent: greedy.solution)
    let dt = Date().timeIntervalSince(t0)
    print("200x7x3 \(f): \(dt)s value \(result?.value ?? -1) proven \(result?.provenOptimal ?? false) nodes \(result?.work ?? 0) greedy \(greedy.solution?.value ?? -1) lb \(result?.lowerBound ?? 0)")
    let one = KnapsackInstance(items: items.map { $0.map { KnapsackChoice(value: $0.value, weights: [$0.weights[0]]) } }, capacities: [caps[0]])
    let t1 = Date()
    let dp = one.solveParetoDP(incumbent: one.solveGreedy().solution)
    print("200x7x1 DP: \(Date().timeIntervalSince(t1))s value \(dp?.value ?? -1) states \(dp?.work ?? 0)")
}
