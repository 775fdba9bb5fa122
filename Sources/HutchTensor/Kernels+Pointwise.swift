import Foundation
import HutchTensorAVX2

/// Pointwise convolutions (1x1 kernel, pads 0, no groups or dilations, any stride) without
/// im2col: one example's output [C_out, OH*OW] is W [C_out, C_in] times its input [C_in, OH*OW],
/// which for stride 1 is the example's NCHW slice itself, and for larger strides a small
/// gathered copy of the subsampled positions. The data gradient is Wᵀ dy per example (dy's slice
/// is already [C_out, OH*OW]), scattered into dx with zeros between the strided positions.
///
/// Each example runs on one of two engines, chosen by geometry and CPU only:
/// - Float with AVX2 + FMA and OH*OW at least 8: the direct kernel of HutchTensorAVX2 /
///   HutchTensorAVX512 on the flat shape [C_in, 1, OH*OW] (a 1x1 stride-1 convolution reads its
///   input as is, no padding copy). Every element is fma'd from zero over ci (co for the data
///   gradient) in order: the bits of `conv2DForward`'s direct path.
/// - Otherwise one GEMM per example (and block), always of the same shape for a geometry.
/// Either way an element's bits depend neither on blocks, shared operands, threads nor on the
/// batch: block b equals a single-block call on block b's operands.
extension Kernels {
    static let pointwiseEnabled = ConvPathTable.host.overrides.pointwise

    /// Whether `conv2DForward` and `conv2DBackwardData` take the pointwise path (Float): every
    /// pointwise geometry, by geometry only (as the direct rule), on either engine.
    /// EngineBenchmark path table (BENCH_PATH_1X1=1), GFLOP per CPU-second, AMD family 26 with
    /// AVX-512; columns 1 block / 8 blocks sharing x (dy) / 8 sharing w; pointwise with the direct
    /// engine; with the GEMM engine (HUTCH_DIRECT_CONV=0); im2col (forward) or GEMM + col2im (data).
    /// Batch 8 at 1 thread (HUTCH_THREADS=1, BENCH_PATH_BATCH=8: a Hutchinson chunk):
    ///   forward 16->32 32x32 s2:  130 / 184 / 123;  67 / 81 / 66;  48 / 70 / 47
    ///   forward 32->64 16x16 s2:  144 / 193 / 146;  78 / 91 / 78;  62 / 85 / 63
    ///   forward 16->32 32x32 s1:  120 / 125 / 119;  83 / 85 / 79;  64 / 71 / 61
    ///   forward 64->64 8x8 s1:    191 / 197 / 196;  98 / 98 / 95;  73 / 94 / 73
    ///   forward 64->64 7x7 s1:      (GEMM engine)   89 / 89 / 88;  67 / 89 / 68
    ///   data    16->32 32x32 s2:   65 /  66 /  65;  46 / 46 / 45;  41 / 43 / 40
    ///   data    32->64 16x16 s2:   81 /  82 /  82;  54 / 55 / 55;  55 / 57 / 54
    ///   data    16->32 32x32 s1:  104 / 119 / 103;  83 / 85 / 78;  62 / 70 / 56
    ///   data    64->64 8x8 s1:    195 / 190 / 197;  98 / 99 / 97;  73 / 74 / 73
    /// 4 blocks instead of 8 give the same picture (16->32 s2: forward 129 / 174 / 124 vs
    /// im2col 47 / 64 / 47, data 67 / 67 / 66 vs 40 / 42 / 40). Batch 128 at 2 threads, direct
    /// engine vs im2col: 16->32 s2 forward 99 / 127 / 55 vs 34 / 52 / 27, data 62 / 53 / 43 vs
    /// 37 / 34 / 28; 32->64 s2 forward 144 / 173 / 89 vs 62 / 72 / 51, data 81 / 72 / 46 vs
    /// 49 / 50 / 40. The direct 3x3-path kernel (which pads a copy of the input) is faster only
    /// at 16->32 32x32 s1 with 8 blocks sharing x (156 vs 125), slower elsewhere (s2: 34 / 124 / 34).
    /// So the pointwise path for all of them; the GEMM engine only ties im2col on the 32->64 s2
    /// data gradient. Double keeps im2col (not measured).
    /// End effect, SensitivityBenchmark --threads 2 --only probes --per-call 4 on a busy machine
    /// (HUTCH_POINTWISE=0 / 1 alternately): quietest runs 0.170-0.175 vs 0.162-0.169 s/probe; 3
    /// runs of 32 probes, process CPU 13.1 vs 12.9 s. perf: the samples in 1x1 convolutions fell
    /// from about 3 % of a probe run (sgemm 1.7 %, im2col + col2im 1 %) to about 1.5 %.
    static func pointwiseApplies(_ g: ConvGeometry) -> Bool { ConvPathTable.host.pointwise(g) }

    /// Whether the geometry is a pointwise convolution this file runs.
    static func isPointwise(_ g: ConvGeometry) -> Bool {
        g.kernelHeight == 1 && g.kernelWidth == 1 && g.group == 1 && g.dilationH == 1 && g.dilationW == 1
            && g.padTop == 0 && g.padLeft == 0 && g.padBottom == 0 && g.padRight == 0
    }

    /// The direct kernel's view of one example: [channelsIn, 1, spatial] -> [channelsOut, 1, spatial].
    static func pointwiseShape(channelsIn: Int, channelsOut: Int, spatial: Int) -> DirectConvShape {
        DirectConvShape(inChannels: channelsIn, inHeight: 1, inWidth: spatial, outChannels: channelsOut, kernelHeight: 1,
                        kernelWidth: 1, strideH: 1, strideW: 1, padTop: 0, padLeft: 0, outHeight: 1, outWidth: spatial)
    }

    /// The direct kernel for this Float geometry's examples, or nil for the per-example GEMM.
    static func pointwiseKernel(_ g: ConvGeometry, direct: Bool = directConvEnabled,
                                avx512: Bool = directAVX512Enabled) -> DirectKernel? {
        let s = pointwiseShape(channelsIn: g.inChannels, channelsOut: g.outChannels, spatial: g.outSpatial)
        guard direct, cpuHasAVX2FMA, s.fits else { return nil }
        return directKernel(s, unpadded: true, allowed: avx512)
    }

    /// Weight blocks packed for the direct engine (none for the GEMM engine), in scratch.
    struct PointwisePacked {
        let base: UnsafeMutablePointer<Float>, perBlock: Int, count: Int

        init(_ s: DirectConvShape, kernel: DirectKernel?, blocks: Int,
             pack: (_ block: Int, _ into: UnsafeMutablePointer<Float>) -> Void) {
            perBlock = kernel == nil ? 0 : s.packedWeightCount
            count = blocks * perBlock
            base = BufferPool.shared.scratch(count, of: Float.self)
            if kernel != nil { for b in 0..<blocks { pack(b, base + b * perBlock) } }
        }

        func block(_ b: Int) -> UnsafePointer<Float> { UnsafePointer(base + b * perBlock) }
        func release() { BufferPool.shared.release(base, count) }
    }

    /// One pass over a pointwise geometry: y[b] (+)= conv(x[b], w[b]), or with `transposed` its
    /// adjoint in x, dx[b] (+)= conv_transpose(dy[b], w[b]) (`input` is then dy and `output` dx).
    /// `workers` threads at most; `direct` false forces the GEMM engine (tests compare both).
    @_specialize(exported: true, where Scalar == Float) @_specialize(exported: true, where Scalar == Double)
    static func pointwise<Scalar: TensorScalar>(
        _ g: ConvGeometry, transposed: Bool, blocks: Int,
        input: UnsafePointer<Scalar>, inputBlockStride: Int,
        w: UnsafePointer<Scalar>, wBlockStride: Int,
        output: UnsafeMutablePointer<Scalar>, accumulate: Bool,
        workers: Int = threads, direct: Bool = directConvEnabled
    ) {
        precondition(isPointwise(g), "the pointwise kernel called for a geometry that is not pointwise")
        let (cin, cout, os) = (g.inChannels, g.outChannels, g.outSpatial)
        let strided = g.strideH > 1 || g.strideW > 1
        let kernel = Scalar.self == Float.self ? pointwiseKernel(g, direct: direct) : nil
        // the data gradient dx = Wᵀ dy is a product C_out -> C_in (a forward 1x1 convolution on the direct kernel)
        let (m, k) = transposed ? (cin, cout) : (cout, cin)
        let s = pointwiseShape(channelsIn: k, channelsOut: m, spatial: os)
        let packed = PointwisePacked(s, kernel: kernel, blocks: wBlockStride == 0 ? 1 : blocks) { b, into in
            if transposed {
                packTransposed(cin: cin, cout: cout, w: floats(w) + b * wBlockStride, into: into)
            } else {
                DirectConvAVX2.packWeights(s, w: floats(w) + b * wBlockStride, into: into)
            }
        }
        defer { packed.release() }
        // per example: what is read and written; strided, the forward gathers its input into scratch
        // and the data gradient writes its product there, then scatters it
        let (inCount, outCount) = transposed ? (cout * os, cin * g.inSpatial) : (cin * g.inSpatial, cout * os)
        let outBlock = transposed ? g.inputCount : g.outputCount
        let (gather, scatter) = (strided && !transposed, strided && transposed)
        let items = ExampleItems(batch: g.batch, blocks: blocks, sharedInput: inputBlockStride == 0)
        parallelFor(items.threads(workers)) { _ in
            let scratch = BufferPool.shared.scratch(strided ? cin * os : 0, of: Scalar.self)
            defer { BufferPool.shared.release(scratch, strided ? cin * os : 0) }
            while case let (bs, e)? = items.next() {
                var xe = input + bs.lowerBound * inputBlockStride + e * inCount
                if gather {
                    gatherStrided(g, x: xe, into: scratch)
                    xe = UnsafePointer(scratch)
                }
                for b in bs {
                    let ye = output + b * outBlock + e * outCount
                    let c = scatter ? scratch : ye, add = accumulate && !scatter
                    if let kernel {
                        directExample(s, kernel, padded: floats(xe), expanded: floats(xe),
                                      packed: packed.block(wBlockStride == 0 ? 0 : b), y: floats(c), accumulate: add)
                    } else {
                        Scalar.gemm(transA: transposed, transB: false, m: m, n: os, k: k, alpha: 1, a: w + b * wBlockStride,
                                    lda: cin, b: xe, ldb: os, beta: add ? 1 : 0, c: c, ldc: os)
                    }
                    if scatter { scatterStrided(g, scratch, into: ye, accumulate: accumulate) }
                }
            }
        }
    }

    /// Packs w [C_out, C_in] transposed, as DirectConvAVX2.packWeights packs a [C_in, C_out] 1x1
    /// weight: [C_in / 4 rounded up][co][4], zero-filled. Reads w's rows in runs of 4 (packing
    /// from a transposed copy cost a fifth of a batch-8 data gradient at 64 channels).
    static func packTransposed(cin: Int, cout: Int, w: UnsafePointer<Float>, into packed: UnsafeMutablePointer<Float>) {
        for cb in 0..<((cin + 3) / 4) {
            let dst = packed + cb * cout * 4, lanes = min(4, cin - cb * 4)
            for co in 0..<cout {
                let src = w + co * cin + cb * 4
                for c in 0..<4 { dst[co * 4 + c] = c < lanes ? src[c] : 0 }
            }
        }
    }

    /// One example's input [C_in, H, W] at the strided positions -> [C_in, OH*OW].
    @inline(__always)
    static func gatherStrided<Scalar: TensorScalar>(_ g: ConvGeometry, x: UnsafePointer<Scalar>,
                                                    into dst: UnsafeMutablePointer<Scalar>) {
        let (h, w, oh, ow, sh, sw) = (g.inHeight, g.inWidth, g.outHeight, g.outWidth, g.strideH, g.strideW)
        let pairs = Scalar.self == Float.self && sw == 2
        for ci in 0..<g.inChannels {
            for oy in 0..<oh {
                let src = x + (ci * h + oy * sh) * w, d = dst + (ci * oh + oy) * ow
                var ox = 0
                if pairs {
                    // 16 inputs -> their 8 even ones, while the 16 stay inside the row
                    let s = UnsafeRawPointer(src), t = UnsafeMutableRawPointer(d)
                    while ox + 8 <= ow && 2 * ox + 16 <= w {
                        t.storeBytes(of: s.loadUnaligned(fromByteOffset: 8 * ox, as: SIMD16<Float>.self).evenHalf,
                                     toByteOffset: 4 * ox, as: SIMD8<Float>.self)
                        ox += 8
                    }
                }
                while ox < ow { d[ox] = src[ox * sw]; ox += 1 }
            }
        }
    }

    /// [C_in, OH*OW] into one example's dx [C_in, H, W] at the strided positions: added, or
    /// stored with zeros at every other position.
    @inline(__always)
    static func scatterStrided<Scalar: TensorScalar>(_ g: ConvGeometry, _ src: UnsafePointer<Scalar>,
                                                     into dx: UnsafeMutablePointer<Scalar>, accumulate: Bool) {
        let (h, w, oh, ow, sh, sw) = (g.inHeight, g.inWidth, g.outHeight, g.outWidth, g.strideH, g.strideW)
        let float = Scalar.self == Float.self
        for ci in 0..<g.inChannels {
            for iy in 0..<h {
                let d = dx + (ci * h + iy) * w
                let oy = iy / sh
                let hit = iy == oy * sh && oy < oh
                if accumulate {
                    guard hit else { continue }
                    let s = src + (ci * oh + oy) * ow
                    for ox in 0..<ow { d[ox * sw] += s[ox] }
                    continue
                }
                // inline stores: rows are short, and memset calls cost more than the stores
                var j = 0, done = 0   // columns and values stored by the vector loop
                if float {
                    let t = UnsafeMutableRawPointer(d)
                    if hit && sw == 2 {
                        // 8 values -> 16 columns, zeros between, while the 16 stay inside the row
                        let s = UnsafeRawPointer(src + (ci * oh + oy) * ow)
                        var ox = 0
                        while ox + 8 <= ow && 2 * ox + 16 <= w {
                            let v = s.loadUnaligned(fromByteOffset: 4 * ox, as: SIMD8<Float>.self)
                            let z = SIMD16<Float>(v[0], 0, v[1], 0, v[2], 0, v[3], 0, v[4], 0, v[5], 0, v[6], 0, v[7], 0)
                            t.storeBytes(of: z, toByteOffset: 8 * ox, as: SIMD16<Float>.self)
                            ox += 8
                        }
                        (j, done) = (2 * ox, ox)
                    }
                    while j + 8 <= w { t.storeBytes(of: SIMD8<Float>(), toByteOffset: 4 * j, as: SIMD8<Float>.self); j += 8 }
                }
                while j < w { d[j] = 0; j += 1 }
                guard hit else { continue }
                let s = src + (ci * oh + oy) * ow
                for ox in done..<ow { d[ox * sw] = s[ox] }
            }
        }
    }
}
