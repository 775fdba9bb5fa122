import HutchTensorAVX2
import HutchTensorAVX512

/// Float depthwise convolutions (3x3 or 5x5, no dilation) on the vector plane kernels of
/// HutchTensorAVX2 / HutchTensorAVX512 (`DepthwiseVectors`), the table's rule permitting
/// (`ConvPathTable.depthwiseVector`); other shapes and Double keep the loops of Kernels+Depthwise.
///
/// An item is a run of input channels of one example (with all blocks when they share the input):
/// each input plane is padded once (`DirectConvAVX2.padInput` with one channel), then every output
/// vector sums all its taps in registers and is stored once. The data gradient is the stride-1
/// correlation of dy with the flipped kernel, dy spread by the strides with zeros between (a
/// strided one so does 4x the FMAs of its nonzero taps, but stores every dx row once as vectors:
/// stride phases scattered into dx cost more on MobileNet's planes; the zero products leave the
/// sums' bits alone). Every output element is one FMA chain in a fixed step order (forward: kh,
/// kw; data gradient: multiplier channel, then kh and kw descending) computed by one thread: bits
/// depend neither on threads, items, blocks nor on the vector width. Scratch per thread: the
/// padded planes of one channel (its multiplier's dy planes for the data gradient).
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

    /// Whether rows of this width run 16-column vectors: from 16 wide (narrower rows store their
    /// lanes one by one: 14x14 planes ran at 10 GFLOP per CPU-second on 16 columns, 16 on 8), also
    /// where they compute more lanes than 8 columns would (56 wide: 64 lanes for 56, yet 20 against
    /// 15 GFLOP per CPU-second on this Zen 4; EngineBenchmark's depthwise rows).
    static func depthwiseWide(_ outWidth: Int, avx512: Bool) -> Bool {
        avx512 && outWidth >= 16
    }

    /// The correlation the plane kernel runs for one channel of a geometry: its padded input
    /// layout, steps and output vectors. Read-only once built: the threads share it.
    final class DepthwisePass {
        /// One padded input plane (one channel) and the output plane.
        let shape: DirectConvShape
        /// The data gradient's strides (dy spread by them into the padded plane); nil: padInput.
        let spread: (h: Int, w: Int)?
        /// 16-column vectors (AVX-512) or 8.
        let wide: Bool
        /// Steps in chain order: input offset into the channel's padded planes, and weight index
        /// from the channel's first weight; then the output vectors' table.
        let steps: Int, offsets: UnsafeMutablePointer<Int>, weights: UnsafeMutablePointer<Int>
        let vectors: PlaneVectors

        /// `wide(OW)`: whether output rows of width OW run 16-column vectors.
        init(_ g: ConvGeometry, transposed: Bool, wide: (Int) -> Bool) {
            let (kh, kw, m) = (g.kernelHeight, g.kernelWidth, g.outChannelsPerGroup)
            let s = transposed
                ? DirectConvShape(inChannels: 1, inHeight: g.outHeight, inWidth: g.outWidth, outChannels: 1, kernelHeight: kh,
                                  kernelWidth: kw, strideH: 1, strideW: 1, padTop: kh - 1 - g.padTop, padLeft: kw - 1 - g.padLeft,
                                  outHeight: g.inHeight, outWidth: g.inWidth)
                : DirectConvShape(inChannels: 1, inHeight: g.inHeight, inWidth: g.inWidth, outChannels: 1, kernelHeight: kh,
                                  kernelWidth: kw, strideH: g.strideH, strideW: g.strideW, padTop: g.padTop, padLeft: g.padLeft,
                                  outHeight: g.outHeight, outWidth: g.outWidth)
            shape = s
            spread = transposed && g.strideH * g.strideW > 1 ? (g.strideH, g.strideW) : nil
            self.wide = wide(s.outWidth)
            let v = self.wide ? 16 : 8, planes = transposed ? m : 1
            steps = planes * kh * kw
            offsets = .allocate(capacity: 2 * steps + PlaneVectors.tableCount(outHeight: s.outHeight, outWidth: s.outWidth, width: v))
            weights = offsets + steps
            var k = 0
            for j in 0..<planes {
                for i in 0..<kh {
                    for t in 0..<kw {
                        offsets[k] = j * s.paddedCount + i * s.rowStride + (t % s.strideW) * s.phaseLength + t / s.strideW
                        weights[k] = transposed ? (j * kh + kh - 1 - i) * kw + kw - 1 - t : i * kw + t
                        k += 1
                    }
                }
            }
            vectors = PlaneVectors(weights + steps, outHeight: s.outHeight, outWidth: s.outWidth, width: v,
                                   rowInput: s.strideH * s.rowStride)
        }

        deinit { offsets.deallocate() }

        /// One input plane into its padded layout at p (shape.paddedCount floats).
        func prepare(_ x: UnsafePointer<Float>, into p: UnsafeMutablePointer<Float>) {
            guard let (sh, sw) = spread else { return DirectConvAVX2.padInput(shape, x: x, into: p) }
            // dy[oy][ox] at padded row padTop + oy * sH, column padLeft + ox * sW; zeros elsewhere
            let s = shape, cols = s.phaseLength
            p.update(repeating: 0, count: s.paddedCount)
            let lo = s.padLeft >= 0 ? 0 : (sw - 1 - s.padLeft) / sw
            let hi = cols > s.padLeft ? min(s.inWidth, (cols - s.padLeft + sw - 1) / sw) : 0
            for oy in 0..<s.inHeight {
                let r = s.padTop + oy * sh
                guard r >= 0 && r < s.paddedHeight else { continue }
                let row = p + r * s.rowStride + s.padLeft, src = x + oy * s.inWidth
                var ox = lo
                while ox < hi { row[ox * sw] = src[ox]; ox += 1 }
            }
        }
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
        let pass = DepthwisePass(g, transposed: transposed) { width.map { $0 == 16 } ?? depthwiseWide($0, avx512: avx512) }
        let m = g.outChannelsPerGroup, kk = g.kernelHeight * g.kernelWidth
        // per input channel: the planes it reads (input side) and the planes it writes
        let (inPlane, outPlane) = transposed ? (g.outSpatial, g.inSpatial) : (g.inSpatial, g.outSpatial)
        let (inPlanes, outPlanes) = transposed ? (m, 1) : (1, m)
        let outBlock = transposed ? g.inputCount : g.outputCount
        let padded = pass.shape.paddedCount * inPlanes, steps = pass.steps
        let perItem = max(1, min(g.group, depthwiseItemOutputs / max(1, outPlanes * outPlane)))
        let cuts = (g.group + perItem - 1) / perItem
        let items = ExampleItems(batch: g.batch * cuts, blocks: blocks, sharedInput: inputBlockStride == 0)
        let mode: DirectStore = accumulate ? .accumulate : .overwrite
        parallelFor(items.threads(workers)) { _ in
            let pad = BufferPool.shared.scratch(padded, of: Float.self), wv = BufferPool.shared.scratch(steps, of: Float.self)
            defer { BufferPool.shared.release(pad, padded); BufferPool.shared.release(wv, steps) }
            while case let (bs, e)? = items.next() {
                let n = e / cuts, c0 = (e % cuts) * perItem
                for c in c0..<min(g.group, c0 + perItem) {
                    let src = input + bs.lowerBound * inputBlockStride + (n * g.group + c) * inPlanes * inPlane
                    for j in 0..<inPlanes { pass.prepare(src + j * inPlane, into: pad + j * pass.shape.paddedCount) }
                    for b in bs {
                        let wb = w + b * wBlockStride
                        for j in 0..<outPlanes {
                            let first = (c * m + (transposed ? 0 : j)) * kk
                            for k in 0..<steps { wv[k] = wb[first + pass.weights[k]] }
                            let dst = output + b * outBlock + ((n * g.group + c) * outPlanes + j) * outPlane
                            if pass.wide {
                                DepthwiseConvAVX512.plane(pad, offsets: pass.offsets, weights: wv, steps: steps, vectors: pass.vectors,
                                                          y: dst, mode: mode)
                            } else {
                                DepthwiseConvAVX2.plane(pad, offsets: pass.offsets, weights: wv, steps: steps, vectors: pass.vectors,
                                                        y: dst, mode: mode)
                            }
                        }
                    }
                }
            }
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
