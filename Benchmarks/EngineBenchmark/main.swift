import CBLAS
import Foundation
import HutchAutodiff
import HutchModel
import HutchTensor

// Engine timings on ResNet-20 (CIFAR 3x32x32, BN folded, batch 128): forward, gradient,
// Hutchinson quadratic forms per probe (k = 1, 4, 8), exact traces, and a plain sgemm in the
// same process. With a PyTorch JSON (Benchmarks/run_engine.sh writes it just before), prints
// the ratios Hutch / PyTorch. Build with -c release.
//   EngineBenchmark [model.onnx] [torch.json]     HUTCH_THREADS=2, BENCH_REPS (default 3)

let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let args = CommandLine.arguments
let modelURL = args.count > 1 ? URL(fileURLWithPath: args[1]) : root.appendingPathComponent("Benchmarks/models/resnet20.onnx")
let torchURL = args.count > 2 ? URL(fileURLWithPath: args[2]) : nil
let reps = Int(ProcessInfo.processInfo.environment["BENCH_REPS"] ?? "") ?? 3
let ks = (ProcessInfo.processInfo.environment["BENCH_K"] ?? "1,4,8").split(separator: ",").compactMap { Int($0) }

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let t0 = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
}

func cpuSeconds() -> Double {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
}

/// CPU seconds (all threads) of the fastest measured run, a steadier number than wall time
/// when other jobs share the cores.
nonisolated(unsafe) var lastCPU = 0.0
/// Minor page faults of the last measured run (fresh memory the buffer pool did not serve).
nonisolated(unsafe) var lastFaults = 0

func minorFaults() -> Int {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return u.ru_minflt
}

/// min and median wall time of `reps` runs after one warm-up run (pooled buffers, page faults).
func measure(_ body: () throws -> Void) rethrows -> (min: Double, median: Double) {
    try body()
    var ts = [Double]()
    var cpu = Double.infinity
    for _ in 0..<reps {
        let c0 = cpuSeconds(), f0 = minorFaults()
        ts.append(try seconds(body))
        lastFaults = minorFaults() - f0
        cpu = min(cpu, cpuSeconds() - c0)
    }
    lastCPU = cpu
    ts.sort()
    return (ts[0], ts[ts.count / 2])
}

/// One column group of the path tables, " r r ... |": for each path (nil: the one the table picks)
/// the GFLOP per CPU-second of `inner` calls of run(path), each doing `flops`; "-" where run
/// returns false (the path cannot run that shape).
func pathCells(_ paths: [ConvPath?], flops: Double, inner: Int, _ run: (ConvPath?) -> Bool) -> String {
    cells(paths, flops: flops, inner: inner, run)
}

/// `pathCells` for any list of choices (the depthwise rows' loops / vector kernels).
func cells<Choice>(_ paths: [Choice], flops: Double, inner: Int, _ run: (Choice) -> Bool) -> String {
    var text = ""
    for path in paths {
        var ran = true
        _ = measure {
            for _ in 0..<inner { ran = run(path) }
        }
        text += ran ? String(format: " %5.1f", flops * Double(inner) / lastCPU / 1e9) : "     -"
    }
    return text + " |"
}

struct Generator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func normal() -> Float {
        let u = (Double(next() >> 11) + 0.5) / Double(1 << 53), v = Double(next() >> 11) / Double(1 << 53)
        return Float((-2 * log(u)).squareRoot() * cos(2 * Double.pi * v))
    }
}

func loadAverage() -> String {
    (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
}

func line(_ name: String, _ t: (min: Double, median: Double), _ extra: String = "") {
    print(name.padding(toLength: 34, withPad: " ", startingAt: 0) + String(format: "min %7.3f s  median %7.3f s  cpu %7.3f s", t.min, t.median, lastCPU) + extra
          + "  faults \(lastFaults)")
}

do {
    let graph = try ONNXLoader.load(contentsOf: modelURL)
    let e = try Executor<Float>(graph: graph)
    let batch = 128
    var rng = Generator(state: 1)
    let input = Tensor<Float>(shape: [batch, 3, 32, 32], data: (0..<(batch * 3 * 32 * 32)).map { _ in rng.normal() })
    let labels = (0..<batch).map { $0 % 10 }
    let weights = e.quantizableWeights
    // FLOPs of one forward pass through the conv/linear layers (2 per multiply-add)
    var forwardFlops = 0.0
    var shape: [ValueID: [Int]] = [graph.input: [batch, 3, 32, 32]]
    for v in try e.values(graph.nodes.flatMap(\.outputs), input: Tensor(shape: [1, 3, 32, 32], data: Array(input.data.prefix(3 * 1024)))).enumerated() {
        shape[graph.nodes.flatMap(\.outputs)[v.offset]] = [batch] + v.element.shape.dropFirst()
    }
    for node in graph.nodes {
        guard node.inputs.count > 1, let w = node.inputs[1].flatMap({ e.parameters[$0] }), let out = shape[node.outputs[0]] else { continue }
        switch node.op {
        case .conv, .gemm: forwardFlops += 2 * Double(out.reduce(1, *)) * Double(w.count / w.shape[0])
        default: break
        }
    }
    print("ResNet-20 \(modelURL.lastPathComponent), batch \(batch), \(weights.count) quantizable layers, " +
          "Kernels.threads \(Kernels.threads), reps \(reps), load \(loadAverage())")
    print(String(format: "forward conv+linear FLOPs %.2f G", forwardFlops / 1e9))

    // BENCH_MODEL=0 skips the whole-model timings (only sgemm and single conv kernels)
    let runModel = ProcessInfo.processInfo.environment["BENCH_MODEL"] != "0"
    let fwd = runModel ? try measure { _ = try e.logits(input) } : (.nan, .nan)
    line("forward", fwd, String(format: "  %6.1f GFLOP/s", forwardFlops / fwd.min / 1e9))
    let grad = runModel ? try measure { _ = try e.gradient(input: input, labels: labels, wrt: weights) } : (.nan, .nan)
    line("forward+gradient", grad, String(format: "  %6.1f GFLOP/s (3 passes)", 3 * forwardFlops / grad.min / 1e9))
    var perProbe: [Int: (min: Double, median: Double)] = [:]
    for k in ks where runModel {
        let directions: [[ValueID: Tensor<Float>]] = (0..<k).map { _ in
            var d = [ValueID: Tensor<Float>]()
            for id in weights {
                let p = e.parameters[id]!
                d[id] = Tensor(shape: p.shape, data: (0..<p.count).map { _ in rng.next() & 1 == 0 ? -1 : 1 })
            }
            return d
        }
        let t = try measure { _ = try e.hessianQuadraticForms(input: input, labels: labels, directions: directions) }
        let p = (t.min / Double(k), t.median / Double(k))
        perProbe[k] = p
        // per probe: tangent sweep ~2 conv passes, adjoint-tangent sweep ~2 (data grads with W and V);
        // shared per call: forward + primal backward-data ~2
        let flops = Double(4 * k + 2) * forwardFlops
        lastCPU /= Double(k)
        line("quadratic forms k=\(k) per probe", p, String(format: "  %6.1f GFLOP/s ((4k+2) passes)", flops / t.min / 1e9))
    }
    let runExact = runModel && ProcessInfo.processInfo.environment["BENCH_EXACT"] != "0"
    let exact = runExact ? try measure { _ = try e.exactHessianTraces(input: input, layers: weights) } : (.nan, .nan)
    line("exact traces (all layers)", exact)

    // plain sgemm in the same process, single-threaded per core as the conv kernels run it:
    // the conv GEMM shapes of the 16/32/64-channel stages, and a square one. BENCH_KERNELS=0
    // skips these and the single-kernel lines below (for the path table alone).
    let runKernels = ProcessInfo.processInfo.environment["BENCH_KERNELS"] != "0"
    let shapes = runKernels ? [(16, 4096, 144), (128, 4096, 144), (32, 4096, 288), (256, 4096, 288), (64, 4096, 576), (512, 4096, 576), (512, 512, 512)] : []
    for (m, n, kk) in shapes {
        let a = [Float](repeating: 0.5, count: m * kk), b = [Float](repeating: 0.25, count: kk * n)
        var c = [Float](repeating: 0, count: m * n)
        let calls = max(1, Int(4e9 / (2.0 * Double(m * n * kk))))
        let t = measure {
            Kernels.parallelFor(Kernels.threads) { _ in
                var cc = [Float](repeating: 0, count: m * n)
                for _ in 0..<calls {
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(kk), 1, a, Int32(kk),
                                b, Int32(n), 0, &cc, Int32(n))
                }
                c[0] = cc[0]
            }
        }
        let flops = 2.0 * Double(m * n * kk * calls * Kernels.threads)
        print(String(format: "sgemm %4dx%4dx%4d on %d threads      %6.1f GFLOP/s, %5.1f GFLOP per CPU-second", m, n, kk,
                     Kernels.threads, flops / t.min / 1e9, flops / lastCPU / 1e9))
    }

    // single conv kernels on ResNet-20 layers (128 examples), blocks 1
    for (cin, hw) in runKernels ? [(16, 32), (32, 16), (64, 8)] : [] {
        let g = try ConvGeometry(input: [batch, cin, hw, hw], weight: [cin, cin, 3, 3], strides: [1, 1], pads: [1, 1, 1, 1],
                                 dilations: [1, 1], group: 1)
        let flops = 2.0 * Double(g.outputCount) * Double(g.patchSize)
        let x = [Float](repeating: 0.5, count: g.inputCount), w = [Float](repeating: 0.1, count: g.weightCount)
        var y = [Float](repeating: 0, count: g.outputCount)
        var dx = [Float](repeating: 0, count: g.inputCount), dw = [Float](repeating: 0, count: g.weightCount)
        _ = measure { Kernels.conv2DForward(g, blocks: 1, x: x, xBlockStride: 0, w: w, wBlockStride: 0, y: &y, accumulate: false) }
        let f = lastCPU
        _ = measure { Kernels.conv2DBackwardData(g, blocks: 1, dy: y, dyBlockStride: 0, w: w, wBlockStride: 0, dx: &dx, accumulate: false) }
        let d = lastCPU
        _ = measure { Kernels.conv2DBackwardWeight(g, blocks: 1, x: x, xBlockStride: 0, dy: y, dyBlockStride: 0, dw: &dw, accumulate: false) }
        let wt = lastCPU
        print(String(format: "conv %2d->%2d %2dx%2d 3x3 (GFLOP per CPU-second): forward %5.1f, backward data %5.1f, backward weight %5.1f",
                     cin, cin, hw, hw, flops / f / 1e9, flops / d / 1e9, flops / wt / 1e9))
        // 8 probe blocks sharing x (the V x and V^T g passes of the quadratic forms): per block
        let kb = 8
        let wk = (0..<(kb * g.weightCount)).map { Float($0 % 7) * 0.01 }
        var yk = [Float](repeating: 0, count: kb * g.outputCount)
        _ = measure { Kernels.conv2DForward(g, blocks: kb, x: x, xBlockStride: 0, w: wk, wBlockStride: g.weightCount, y: &yk, accumulate: false) }
        let fk = lastCPU / Double(kb)
        var dxk = [Float](repeating: 0, count: kb * g.inputCount)
        _ = measure { Kernels.conv2DBackwardData(g, blocks: kb, dy: y, dyBlockStride: 0, w: wk, wBlockStride: g.weightCount, dx: &dxk, accumulate: false) }
        let dk = lastCPU / Double(kb)
        print(String(format: "   8 blocks sharing the input, per block: forward %5.1f, backward data %5.1f", flops / fk / 1e9, flops / dk / 1e9))
    }

    // BENCH_PATH_DEPTHWISE=1: MobileNetV2's depthwise 3x3 shapes at 224x224 (BENCH_PATHS=0 for them
    // alone), forward and data gradient on the scalar loops (l), the vector kernels on AVX2 only (2)
    // and with AVX-512 allowed (v, what the table runs), in the path table's three column groups.
    if ProcessInfo.processInfo.environment["BENCH_PATH_DEPTHWISE"] == "1" {
        let env = ProcessInfo.processInfo.environment
        let kb = Int(env["BENCH_PATH_BLOCKS"] ?? "") ?? 8
        let pathBatch = Int(env["BENCH_PATH_BATCH"] ?? "") ?? batch
        print("depthwise paths (GFLOP per CPU-second, batch \(pathBatch), \(Kernels.threads) threads)   1 block: loops avx2 vector" +
              " | \(kb) shared x: l 2 v | \(kb) shared w: l 2 v")
        let shapes = [(32, 112, 1), (96, 112, 2), (144, 56, 1), (144, 56, 2), (192, 28, 1), (192, 28, 2), (384, 14, 1), (576, 14, 1),
                      (576, 14, 2), (960, 7, 1)]
        for (ch, hw, s) in shapes {
            let g = try ConvGeometry(input: [pathBatch, ch, hw, hw], weight: [ch, 1, 3, 3], strides: [s, s], pads: [1, 1, 1, 1],
                                     dilations: [1, 1], group: ch)
            let flops = 2.0 * Double(g.outputCount) * Double(g.patchSize)
            for direction in [ConvDirection.forward, .backwardData] {
                let (inCount, outCount) = direction == .forward ? (g.inputCount, g.outputCount) : (g.outputCount, g.inputCount)
                let input = (0..<(kb * inCount)).map { Float($0 % 13) * 0.1 - 0.6 }
                let w = (0..<(kb * g.weightCount)).map { Float($0 % 7) * 0.01 }
                var out = [Float](repeating: 0, count: kb * outCount)
                var text = String(format: "dw %3d %3dx%-3d s%d ", ch, hw, hw, s) + (direction == .forward ? "forward " : "data    ")
                for (blocks, xs, ws) in [(1, 0, 0), (kb, 0, g.weightCount), (kb, inCount, 0)] {
                    let inner = max(1, Int(5e8 / (flops * Double(blocks))))
                    text += cells([(false, false), (true, false), (true, true)], flops: flops * Double(blocks), inner: inner) { p in
                        Kernels.depthwise(direction, g, vector: p.0, avx512: p.1, blocks: blocks, input: input, inputBlockStride: xs,
                                          w: w, wBlockStride: ws, output: &out, accumulate: false)
                    }
                }
                print(text)
            }
        }
    }

    // Each forward path side by side on every ResNet-20 conv shape (GFLOP per CPU-second): one
    // block; 8 blocks sharing x (V x); 8 blocks with their own x sharing w (W x-dot). "auto" is
    // what conv2DForward dispatches to. BENCH_PATHS=0 skips this table, BENCH_PATH_BLOCKS=k
    // sets the 8, BENCH_PATH_BATCH=n the batch (128; the quadratic forms run chunks of 8),
    // BENCH_PATH_1X1=1 keeps only the 1x1 rows. Small calls repeat until each measured run
    // has about 0.5 GFLOP, so CPU time is not at the clock's resolution.
    if ProcessInfo.processInfo.environment["BENCH_PATHS"] != "0" {
        let env = ProcessInfo.processInfo.environment
        let kb = Int(env["BENCH_PATH_BLOCKS"] ?? "") ?? 8
        let pathBatch = Int(env["BENCH_PATH_BATCH"] ?? "") ?? batch
        // the Float paths compared side by side (depthwise is its own shape)
        let forced: [ConvPath] = [.direct, .winograd, .im2col, .pointwise, .winograd4, .winograd2, .winograd4PerExample]
        let names = forced.map { $0 == .winograd4 ? "4" : $0 == .winograd2 ? "2" : $0 == .winograd4PerExample ? "e" : String($0.rawValue.prefix(1)) }.joined(separator: " ")
        print("forward paths (GFLOP per CPU-second, batch \(pathBatch), \(Kernels.threads) threads)   1 block: " +
              forced.map(\.rawValue).joined(separator: " ") +
              " auto | \(kb) shared x: \(names) a | \(kb) shared w: \(names) a")
        var convs: [(cin: Int, cout: Int, hw: Int, k: Int, s: Int)] = [
            (3, 16, 32, 3, 1), (16, 16, 32, 3, 1), (16, 32, 32, 3, 2), (16, 32, 32, 1, 2), (32, 32, 16, 3, 1),
            (32, 64, 16, 3, 2), (32, 64, 16, 1, 2), (64, 64, 8, 3, 1),
            // stride-1 1x1 (not in ResNet-20; bottleneck blocks), 7x7: OH*OW not a multiple of 8
            (16, 32, 32, 1, 1), (64, 64, 8, 1, 1), (64, 64, 7, 1, 1),
        ]
        // BENCH_PATH_IMAGENET=1: the shapes of torchvision's ResNet-18/50 at 224x224 instead (stem,
        // 3x3 stages 56/28/14/7 wide, their stride-2 entries and 1x1 shortcuts, ResNet-50's 1x1s)
        if env["BENCH_PATH_IMAGENET"] == "1" {
            convs = [
                (3, 64, 224, 7, 2), (64, 64, 56, 3, 1), (64, 128, 56, 3, 2), (64, 128, 56, 1, 2), (128, 128, 28, 3, 1),
                (128, 256, 28, 3, 2), (128, 256, 28, 1, 2), (256, 256, 14, 3, 1), (256, 512, 14, 3, 2), (256, 512, 14, 1, 2),
                (512, 512, 7, 3, 1), (256, 64, 56, 1, 1), (1024, 256, 14, 1, 1), (512, 2048, 7, 1, 1), (2048, 512, 7, 1, 1),
            ]
        }
        if env["BENCH_PATH_1X1"] == "1" { convs = convs.filter { $0.k == 1 } }
        for c in convs {
            let pad = c.k / 2
            let g = try ConvGeometry(input: [pathBatch, c.cin, c.hw, c.hw], weight: [c.cout, c.cin, c.k, c.k], strides: [c.s, c.s],
                                     pads: [pad, pad, pad, pad], dilations: [1, 1], group: 1)
            let flops = 2.0 * Double(g.outputCount) * Double(g.patchSize)
            let x = (0..<(kb * g.inputCount)).map { Float($0 % 13) * 0.1 - 0.6 }
            let w = (0..<(kb * g.weightCount)).map { Float($0 % 7) * 0.01 }
            var y = [Float](repeating: 0, count: kb * g.outputCount)
            var text = String(format: "conv %2d->%2d %2dx%2d %dx%d s%d ", c.cin, c.cout, c.hw, c.hw, c.k, c.k, c.s)
            for (blocks, xs, ws) in [(1, 0, 0), (kb, 0, g.weightCount), (kb, g.inputCount, 0)] {
                let inner = max(1, Int(5e8 / (flops * Double(blocks))))
                text += pathCells(forced + [nil], flops: flops * Double(blocks), inner: inner) { path in
                    guard let path else {
                        Kernels.conv2DForward(g, blocks: blocks, x: x, xBlockStride: xs, w: w, wBlockStride: ws, y: &y, accumulate: false)
                        return true
                    }
                    return Kernels.conv2D(.forward, g, path: path, blocks: blocks, input: x, inputBlockStride: xs,
                                          w: w, wBlockStride: ws, output: &y, accumulate: false)
                }
            }
            print(text)
            // weight gradients on each path: 1 block; k blocks sharing x with their own dy; k sharing
            // dy with their own x (a Hessian-vector product runs both kinds; Hutchinson's quadratic
            // forms run none). BENCH_PATH_WEIGHT=0 skips these rows.
            if env["BENCH_PATH_WEIGHT"] != "0" {
                var dw = [Float](repeating: 0, count: kb * g.weightCount)
                let dyw = (0..<(kb * g.outputCount)).map { Float($0 % 11) * 0.1 - 0.5 }
                text = "   backward weight: d i auto".padding(toLength: 39, withPad: " ", startingAt: 0)
                for (blocks, xs, ys) in [(1, 0, 0), (kb, 0, g.outputCount), (kb, g.inputCount, 0)] {
                    let inner = max(1, Int(5e8 / (flops * Double(blocks))))
                    text += pathCells([.direct, .im2col, nil], flops: flops * Double(blocks), inner: inner) { path in
                        guard let path else {
                            Kernels.conv2DBackwardWeight(g, blocks: blocks, x: x, xBlockStride: xs, dy: dyw, dyBlockStride: ys,
                                                         dw: &dw, accumulate: false)
                            return true
                        }
                        return Kernels.conv2DBackwardWeight(g, path: path, blocks: blocks, x: x, xBlockStride: xs, dy: dyw,
                                                            dyBlockStride: ys, dw: &dw, accumulate: false)
                    }
                }
                print(text)
            }
            guard c.s > 1 || c.k == 1 else { continue }
            // strided and 1x1 data gradients: each path (GEMM + col2im for im2col), same three columns
            var dx = [Float](repeating: 0, count: kb * g.inputCount)
            let dy = (0..<(kb * g.outputCount)).map { Float($0 % 11) * 0.1 - 0.5 }
            text = "   backward data: " + names + " auto"
            text = text.padding(toLength: 39, withPad: " ", startingAt: 0)
            for (blocks, ys, ws) in [(1, 0, 0), (kb, 0, g.weightCount), (kb, g.outputCount, 0)] {
                let inner = max(1, Int(5e8 / (flops * Double(blocks))))
                text += pathCells(forced + [nil], flops: flops * Double(blocks), inner: inner) { path in
                    guard let path else {
                        Kernels.conv2DBackwardData(g, blocks: blocks, dy: dy, dyBlockStride: ys, w: w, wBlockStride: ws, dx: &dx,
                                                   accumulate: false)
                        return true
                    }
                    return Kernels.conv2D(.backwardData, g, path: path, blocks: blocks, input: dy, inputBlockStride: ys,
                                          w: w, wBlockStride: ws, output: &dx, accumulate: false)
                }
            }
            print(text)
        }
    }

    // BENCH_GROUPED=1: the grouped convolutions of torchvision's ResNeXt-50 32x4d and RegNetY-400MF
    // at 224x224 (3x3, C_in = C_out, their stride-2 entries) on the grouped kernel (g) and im2col
    // (i) and what the table picks (a), forward and data gradient, GFLOP per CPU-second: 1 block;
    // k blocks sharing the input; k sharing w (BENCH_PATH_BLOCKS=k, default 4; BENCH_PATH_BATCH, default 8).
    if ProcessInfo.processInfo.environment["BENCH_GROUPED"] == "1" {
        let env = ProcessInfo.processInfo.environment
        let kb = Int(env["BENCH_PATH_BLOCKS"] ?? "") ?? 4
        let n = Int(env["BENCH_PATH_BATCH"] ?? "") ?? 8
        print("grouped paths (GFLOP per CPU-second, batch \(n), \(Kernels.threads) threads): g i a | \(kb) shared input | \(kb) shared w")
        let convs: [(c: Int, groups: Int, hw: Int, s: Int)] = [
            (128, 32, 56, 1), (256, 32, 56, 2), (256, 32, 28, 1), (512, 32, 28, 2), (512, 32, 14, 1), (1024, 32, 14, 2),
            (1024, 32, 7, 1), (48, 6, 112, 2), (104, 13, 56, 2), (104, 13, 28, 1), (208, 26, 28, 2), (208, 26, 14, 1),
            (440, 55, 14, 2), (440, 55, 7, 1),
        ]
        for c in convs {
            let g = try ConvGeometry(input: [n, c.c, c.hw, c.hw], weight: [c.c, c.c / c.groups, 3, 3], strides: [c.s, c.s],
                                     pads: [1, 1, 1, 1], dilations: [1, 1], group: c.groups)
            let flops = 2.0 * Double(g.outputCount) * Double(g.patchSize)
            let x = (0..<(kb * g.inputCount)).map { Float($0 % 13) * 0.1 - 0.6 }
            let w = (0..<(kb * g.weightCount)).map { Float($0 % 7) * 0.01 }
            let dy = (0..<(kb * g.outputCount)).map { Float($0 % 11) * 0.1 - 0.5 }
            var y = [Float](repeating: 0, count: kb * g.outputCount), dx = [Float](repeating: 0, count: kb * g.inputCount)
            for direction in [ConvDirection.forward, .backwardData] {
                let forward = direction == .forward
                let (input, count) = forward ? (x, g.inputCount) : (dy, g.outputCount)
                var text = String(format: "%@ %4d g%-2d %3dx%-3d s%d ", forward ? "forward" : "data   ", c.c, c.groups, c.hw, c.hw, c.s)
                for (blocks, xs, ws) in [(1, 0, 0), (kb, 0, g.weightCount), (kb, count, 0)] {
                    let inner = max(1, Int(5e8 / (flops * Double(blocks))))
                    text += pathCells([.grouped, .im2col, nil], flops: flops * Double(blocks), inner: inner) { path in
                        if let path {
                            return forward
                                ? Kernels.conv2D(.forward, g, path: path, blocks: blocks, input: input, inputBlockStride: xs, w: w,
                                                 wBlockStride: ws, output: &y, accumulate: false)
                                : Kernels.conv2D(.backwardData, g, path: path, blocks: blocks, input: input, inputBlockStride: xs,
                                                 w: w, wBlockStride: ws, output: &dx, accumulate: false)
                        }
                        if forward {
                            Kernels.conv2DForward(g, blocks: blocks, x: input, xBlockStride: xs, w: w, wBlockStride: ws, y: &y,
                                                  accumulate: false)
                        } else {
                            Kernels.conv2DBackwardData(g, blocks: blocks, dy: input, dyBlockStride: xs, w: w, wBlockStride: ws,
                                                       dx: &dx, accumulate: false)
                        }
                        return true
                    }
                }
                print(text)
            }
        }
    }

    if let torchURL {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: torchURL)) as? [String: Any] ?? [:]
        func torch(_ key: String) -> Double? { (json[key] as? [String: Any])?["min"] as? Double }
        print("PyTorch \(json["torch"] ?? "?") threads \(json["threads"] ?? "?") (min of runs; ratio = PyTorch / Hutch, >1 means Hutch faster)")
        if let t = torch("forward") { print(String(format: "  forward        torch %.3f s  ratio %.2f", t, t / fwd.min)) }
        if let t = torch("forward_with_autograd") { print(String(format: "  forward (autograd on) torch %.3f s  ratio %.2f", t, t / fwd.min)) }
        if let t = torch("gradient") { print(String(format: "  gradient       torch %.3f s  ratio %.2f", t, t / grad.min)) }
        for key in ["probe_weights", "probe_all_params"] {
            guard let t = torch(key) else { continue }
            for k in ks { print(String(format: "  %@ torch %.3f s/probe  vs Hutch k=%d: ratio %.2f", key, t, k, t / perProbe[k]!.0)) }
            print(String(format: "  100 probes %@ torch %.1f s vs exact %.3f s: ratio %.1f", key, 100 * t, exact.min, 100 * t / exact.min))
        }
    }
} catch {
    print("EngineBenchmark: \(error)")
    exit(1)
}
