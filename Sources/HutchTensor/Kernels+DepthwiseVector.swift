import HutchTensorAVX2
import HutchTensorAVX512

/// Float depthwise convolutions (3x3 or 5x5, no dilation) on the vector plane kernels of
/// HutchTensorAVX2 / HutchTensorAVX512 (`DepthwiseVectors`), the table's rule permitting
/// (`ConvPathTable.depthwiseVector`); other shapes and Double keep the loops of Kernels+Depthwise.
///
/// An item is a run of input channels of one example (with all blocks when they share the input):
/// each input plane is padded once (`DirectConvAVX2.padInput` with one channel, stride phases
/// split), then every output vector sums all its taps in registers and is stored once. The data
/// gradient runs as stride-1 correlations of dy, one per stride phase of dx (iy mod sH, ix mod sW):
/// phase rows are scattered into dx, a stride-1 one is written in place. Every output element is
/// one FMA chain in a fixed step order (forward: kh, kw; data gradient: multiplier channel, then kh
/// and kw descending) computed by one thread: bits depend neither on threads, items, blocks nor on
/// the vector width. Scratch per thread: the padded planes of one item channel, one phase plane.
extension Kernels {
    /// Output floats an item's channels add up to (at least one channel): a lock per item costs
    /// what a few hundred FMAs do, and 7x7 planes would otherwise be items of 49 outputs.
    static let depthwiseItemOutputs = 4096

    /// Whether the vector kernels can run this geometry: depthwise, 3x3 or 5x5, no dilations.
    static func depthwiseVectorFits(_ g: ConvGeometry) -> Bool {
        isDepthwise(g) && g.dilationH == 1 && g.dilationW == 1 && g.kernelHeight == g.kernelWidth
            && (g.kernelHeight == 3 || g.kernelHeight == 5)
    }

    /// The table's rule for this process (`ConvPathTable.depthwiseVector`).
    static func depthwiseVectorApplies(_ g: ConvGeometry) -> Bool { ConvPathTable.host.depthwiseVector(g) }

    /// One correlation the plane kernel runs per item channel: the forward, or one stride phase of
    /// the data gradient (dx rows py, py + sH, ..., columns px, px + sW, ...). Read-only once built:
    /// the threads share it.
    final class DepthwisePass {
        /// One input plane's padded layout and the output plane; nil where no tap reaches the phase (0 there).
        let shape: DirectConvShape?
        let py: Int, px: Int
        /// 16-column vectors (AVX-512) or 8.
        let wide: Bool
        /// Steps in chain order: input offset into the item channel's padded planes, and weight
        /// index from the channel's first weight; then the output vectors.
        let steps: Int, offsets: UnsafeMutablePointer<Int>, weights: UnsafeMutablePointer<Int>
        let vectors: PlaneVectors?

        /// A pass over `planes` padded planes of shape s, weight(plane, i, j) the weight of tap (i, j).
        init(_ s: DirectConvShape?, py: Int, px: Int, planes: Int, wide: (Int) -> Bool, weight: (Int, Int, Int) -> Int) {
            (shape, self.py, self.px) = (s, py, px)
            self.wide = s.map { wide($0.outWidth) } ?? false
            let v = self.wide ? 16 : 8
            steps = s.map { planes * $0.kernelHeight * $0.kernelWidth } ?? 0
            let table = s.map { PlaneVectors.tableCount(outHeight: $0.outHeight, outWidth: $0.outWidth, width: v) } ?? 0
            offsets = .allocate(capacity: 2 * steps + table)
            weights = offsets + steps
            guard let s else { vectors = nil; return }
            var k = 0
            for j in 0..<planes {
                for i in 0..<s.kernelHeight {
                    for t in 0..<s.kernelWidth {
                        offsets[k] = j * s.paddedCount + i * s.rowStride + (t % s.strideW) * s.phaseLength + t / s.strideW
                        weights[k] = weight(j, i, t)
                        k += 1
                    }
                }
            }
            vectors = PlaneVectors(weights + steps, outHeight: s.outHeight, outWidth: s.outWidth, width: v,
                                   rowInput: s.strideH * s.rowStride)
        }

        deinit { offsets.deallocate() }
    }

    /// Whether 16-column vectors compute no more lanes than 8-column ones at this width (the direct kernels' rule).
    static func depthwiseWide(_ outWidth: Int, avx512: Bool) -> Bool {
        avx512 && PlaneVectors.perRow(outWidth, width: 16) * 16 <= PlaneVectors.perRow(outWidth, width: 8) * 8
    }

    /// The forward pass, or the data gradient's phases.
    /// `wide(OW)`: whether a pass of output width OW runs 16-column vectors.
    static func depthwisePasses(_ g: ConvGeometry, transposed: Bool, wide: (Int) -> Bool) -> [DepthwisePass] {
        let (kh, kw, sh, sw, m) = (g.kernelHeight, g.kernelWidth, g.strideH, g.strideW, g.outChannelsPerGroup)
        if !transposed {
            let s = DirectConvShape(inChannels: 1, inHeight: g.inHeight, inWidth: g.inWidth, outChannels: 1, kernelHeight: kh,
                                    kernelWidth: kw, strideH: sh, strideW: sw, padTop: g.padTop, padLeft: g.padLeft,
                                    outHeight: g.outHeight, outWidth: g.outWidth)
            return [DepthwisePass(s, py: 0, px: 0, planes: 1, wide: wide) { _, i, t in i * kw + t }]
        }
        var passes = [DepthwisePass]()
        for py in 0..<sh {
            for px in 0..<sw {
                let hp = (g.inHeight - py + sh - 1) / sh, wp = (g.inWidth - px + sw - 1) / sw
                guard hp > 0 && wp > 0 else { continue }
                // taps kh = rh, rh + sH, ... reach iy = a * sH + py, from oy = a + dh + (tap index, descending kh)
                let rh = (py + g.padTop) % sh, rw = (px + g.padLeft) % sw
                let th = rh < kh ? (kh - rh + sh - 1) / sh : 0, tw = rw < kw ? (kw - rw + sw - 1) / sw : 0
                guard th > 0 && tw > 0 else {
                    passes.append(DepthwisePass(nil, py: py, px: px, planes: 0, wide: wide) { _, _, _ in 0 })
                    continue
                }
                let khMax = rh + (th - 1) * sh, kwMax = rw + (tw - 1) * sw
                let dh = (py + g.padTop - khMax) / sh, dw = (px + g.padLeft - kwMax) / sw
                let s = DirectConvShape(inChannels: 1, inHeight: g.outHeight, inWidth: g.outWidth, outChannels: 1, kernelHeight: th,
                                        kernelWidth: tw, strideH: 1, strideW: 1, padTop: -dh, padLeft: -dw, outHeight: hp, outWidth: wp)
                passes.append(DepthwisePass(s, py: py, px: px, planes: m, wide: wide) { j, i, t in
                    (j * kh + khMax - i * sh) * kw + kwMax - t * sw
                })
            }
        }
        return passes
    }

    /// y[b] (+)= conv(x[b], w[b]), or with `transposed` dx[b] (+)= conv_transpose(dy[b], w[b]), as
    /// `depthwise`, on the vector kernels; `workers` threads at most, `avx512` allows 16-column
    /// vectors where `depthwiseWide`, `width` (8 or 16) forces one width (tests vary these: the
    /// bits are the same). `depthwiseVectorFits(g)` and an AVX2 + FMA CPU.
    static func depthwiseVector(_ g: ConvGeometry, transposed: Bool, blocks: Int, input: UnsafePointer<Float>, inputBlockStride: Int,
                                w: UnsafePointer<Float>, wBlockStride: Int, output: UnsafeMutablePointer<Float>, accumulate: Bool,
                                workers: Int = threads, avx512: Bool = directAVX512Enabled, width: Int? = nil) {
        precondition(cpuHasAVX2FMA && depthwiseVectorFits(g), "depthwiseVector called for a geometry or CPU it does not support")
        precondition((!avx512 && width != 16) || cpuHasAVX512, "depthwiseVector: AVX-512 on a CPU without it")
        let passes = depthwisePasses(g, transposed: transposed) { width.map { $0 == 16 } ?? depthwiseWide($0, avx512: avx512) }
        let m = g.outChannelsPerGroup, kk = g.kernelHeight * g.kernelWidth
        // per input channel: the planes it reads (input side) and the planes it writes
        let (inPlane, outPlane) = transposed ? (g.outSpatial, g.inSpatial) : (g.inSpatial, g.outSpatial)
        let (inPlanes, outPlanes) = transposed ? (m, 1) : (1, m)
        let (inBlock, outBlock) = transposed ? (g.outputCount, g.inputCount) : (g.inputCount, g.outputCount)
        let padded = passes.map { ($0.shape?.paddedCount ?? 0) * inPlanes }.max() ?? 0
        let phase = passes.count > 1 ? passes.map { ($0.shape?.outHeight ?? 0) * ($0.shape?.outWidth ?? 0) }.max() ?? 0 : 0
        let steps = passes.map(\.steps).max() ?? 0
        let perItem = max(1, min(g.group, depthwiseItemOutputs / max(1, outPlanes * outPlane)))
        let cuts = (g.group + perItem - 1) / perItem
        let items = ExampleItems(batch: g.batch * cuts, blocks: blocks, sharedInput: inputBlockStride == 0)
        let mode: DirectStore = accumulate ? .accumulate : .overwrite
        parallelFor(items.threads(workers)) { _ in
            let pad = BufferPool.shared.scratch(padded, of: Float.self), tmp = BufferPool.shared.scratch(phase, of: Float.self)
            let wv = BufferPool.shared.scratch(steps, of: Float.self)
            defer {
                BufferPool.shared.release(pad, padded); BufferPool.shared.release(tmp, phase); BufferPool.shared.release(wv, steps)
            }
            while case let (bs, e)? = items.next() {
                let n = e / cuts, c0 = (e % cuts) * perItem
                for c in c0..<min(g.group, c0 + perItem) {
                    let src = input + bs.lowerBound * inputBlockStride + (n * g.group + c) * inPlanes * inPlane
                    for p in passes {
                        guard let s = p.shape else {
                            if !accumulate { for b in bs { depthwiseScatter(g, p, nil, output + b * outBlock + (n * g.group + c) * outPlane) } }
                            continue
                        }
                        for j in 0..<inPlanes { DirectConvAVX2.padInput(s, x: src + j * inPlane, into: pad + j * s.paddedCount) }
                        for b in bs {
                            let wb = w + b * wBlockStride
                            for j in 0..<outPlanes {
                                let first = (c * m + (transposed ? 0 : j)) * kk
                                for k in 0..<p.steps { wv[k] = wb[first + p.weights[k]] }
                                let dst = output + b * outBlock + ((n * g.group + c) * outPlanes + j) * outPlane
                                let direct = passes.count == 1
                                depthwisePlane(p, pad, wv, direct ? dst : tmp, direct ? mode : .overwrite)
                                if !direct { depthwiseScatter(g, p, tmp, dst, accumulate: accumulate) }
                            }
                        }
                    }
                }
            }
        }
    }

    /// One output plane of pass p from its padded input planes and gathered weights.
    @inline(__always)
    private static func depthwisePlane(_ p: DepthwisePass, _ x: UnsafePointer<Float>, _ wv: UnsafePointer<Float>,
                                       _ y: UnsafeMutablePointer<Float>, _ mode: DirectStore) {
        if p.wide {
            DepthwiseConvAVX512.plane(x, offsets: p.offsets, weights: wv, steps: p.steps, vectors: p.vectors!, y: y, mode: mode)
        } else {
            DepthwiseConvAVX2.plane(x, offsets: p.offsets, weights: wv, steps: p.steps, vectors: p.vectors!, y: y, mode: mode)
        }
    }

    /// A phase plane (hp x wp) into dx's plane at rows py + a * sH, columns px + j * sW: stored, added,
    /// or zeros stored where `phase` is nil.
    private static func depthwiseScatter(_ g: ConvGeometry, _ p: DepthwisePass, _ phase: UnsafePointer<Float>?,
                                         _ dx: UnsafeMutablePointer<Float>, accumulate: Bool = false) {
        let (sh, sw) = (g.strideH, g.strideW)
        let hp = (g.inHeight - p.py + sh - 1) / sh, wp = (g.inWidth - p.px + sw - 1) / sw
        for a in 0..<hp {
            let dst = dx + (a * sh + p.py) * g.inWidth + p.px
            guard let src = phase.map({ $0 + a * wp }) else {
                for j in 0..<wp { dst[j * sw] = 0 }
                continue
            }
            if accumulate { for j in 0..<wp { dst[j * sw] += src[j] } } else { for j in 0..<wp { dst[j * sw] = src[j] } }
        }
    }

    /// The forward (input x, output y) or data gradient (input dy, output dx) of a depthwise
    /// geometry forced onto the scalar loops or the vector kernels (their AVX-512 build where
    /// `avx512` and the CPU allow): EngineBenchmark's depthwise rows. False, and the output
    /// untouched, where the vector kernels cannot run it.
    public static func depthwise(_ direction: ConvDirection, _ g: ConvGeometry, vector: Bool, avx512: Bool = true, blocks: Int,
                                 input: UnsafePointer<Float>, inputBlockStride: Int, w: UnsafePointer<Float>, wBlockStride: Int,
                                 output: UnsafeMutablePointer<Float>, accumulate: Bool) -> Bool {
        guard direction != .backwardWeight, isDepthwise(g), !vector || (cpuHasAVX2FMA && depthwiseVectorFits(g)) else { return false }
        if vector {
            depthwiseVector(g, transposed: direction == .backwardData, blocks: blocks, input: input, inputBlockStride: inputBlockStride,
                            w: w, wBlockStride: wBlockStride, output: output, accumulate: accumulate, avx512: avx512 && cpuHasAVX512)
        } else {
            depthwiseLoops(g, transposed: direction == .backwardData, blocks: blocks, input: input, inputBlockStride: inputBlockStride,
                           w: w, wBlockStride: wBlockStride, output: output, accumulate: accumulate)
        }
        return true
    }
}
