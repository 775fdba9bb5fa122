import HutchTensorAVX2

/// Grouped convolutions (group > 1 and several input channels per group: ResNeXt, RegNet) on the
/// direct AVX2 / AVX-512 kernels. In NCHW a group's channels are contiguous, so the convolution is
/// a group-1 convolution of C_in / G -> C_out / G channels over N * G slices (example n's group
/// grp is slice n * G + grp, for x and y alike) whose weights are group grp's. im2col instead
/// issues G small GEMMs per chunk (M = C_out / G rows), which run far below the kernels' rate.
/// Every output element is summed in the fixed order (ci, kh, kw) by one thread, as in
/// Kernels+DirectConv: bits depend neither on threads nor on blocks, and AVX2 and AVX-512 agree.
extension Kernels {
    /// Group > 1 with more than one input channel per group (one is `isDepthwise`).
    @inlinable
    static func isGrouped(_ g: ConvGeometry) -> Bool { g.group > 1 && g.inChannelsPerGroup > 1 }

    /// One group's geometry over the N * G slices: group 1, C_in / G -> C_out / G channels.
    static func groupSlices(_ g: ConvGeometry) -> ConvGeometry {
        var s = g
        (s.batch, s.inChannels, s.outChannels, s.group) = (g.batch * g.group, g.inChannelsPerGroup, g.outChannelsPerGroup, 1)
        return s
    }

    /// Whether the grouped kernels run this direction of g: the forward and stride-1 data gradient
    /// as `groupedKernelGeometry`, the strided data gradient on the stride phases of one group
    /// (Kernels+DirectConvBackwardData: H and W multiples of the strides).
    static func groupedFits(_ g: ConvGeometry, transposed: Bool) -> Bool {
        guard isGrouped(g) else { return false }
        if transposed && g.strideH * g.strideW > 1 { return directDataPhases(groupSlices(g)) != nil }
        return groupedKernelGeometry(g, transposed: transposed) != nil
    }

    /// The per-group geometry the kernel runs for this direction: the slices' forward, or for the
    /// stride-1 data gradient their `strideOneTranspose`; nil where the grouped kernel cannot run it.
    static func groupedKernelGeometry(_ g: ConvGeometry, transposed: Bool) -> ConvGeometry? {
        guard isGrouped(g) else { return nil }
        let slices = groupSlices(g)
        guard let k = transposed ? slices.strideOneTranspose : slices, directShape(k) != nil else { return nil }
        return k
    }

    /// y[b] (+)= conv(x[b], w[b]) (transposed false) or dx[b] (+)= conv_transpose(dy[b], w[b])
    /// (transposed true: input dy, output dx) by the direct kernels per group; `workers` threads at
    /// most. With `addend` (the output's layout) the output is addend + the convolution, added as
    /// the kernel stores (copied first for the strided data gradient). `avx512` false forces the
    /// AVX2 build (tests).
    static func groupedDirect(_ g: ConvGeometry, transposed: Bool, blocks: Int,
                              input: UnsafePointer<Float>, inputBlockStride: Int,
                              w: UnsafePointer<Float>, wBlockStride: Int,
                              output: UnsafeMutablePointer<Float>, accumulate: Bool, addend: UnsafePointer<Float>? = nil,
                              workers: Int = threads, avx512: Bool = directAVX512Enabled) {
        if transposed && g.strideH * g.strideW > 1 {
            if let a = addend { output.update(from: a, count: blocks * g.inputCount) }
            return groupedBackwardDataStrided(g, blocks: blocks, dy: input, dyBlockStride: inputBlockStride, w: w,
                                              wBlockStride: wBlockStride, dx: output, accumulate: accumulate || addend != nil,
                                              workers: workers, avx512: avx512)
        }
        guard cpuHasAVX2FMA, let k = groupedKernelGeometry(g, transposed: transposed), let s = directShape(k) else {
            preconditionFailure("groupedDirect called for a geometry or CPU it does not support")
        }
        let kernel = directKernel(s, allowed: avx512)
        let (groups, wBlocks, pc) = (g.group, wBlockStride == 0 ? 1 : blocks, s.packedWeightCount)
        let groupWeights = g.weightCount / groups
        let weights: DirectWeights = transposed ? .flippedTransposed : .forward
        let key = PackedWeightCache.Key(w, blockStride: wBlockStride, blocks: wBlocks, geometry: g, layout: .direct(weights))
        // packed (block b, group grp) at (b * G + grp) * pc
        withPacked(key, count: wBlocks * groups * pc, pack: { packed in
            for b in 0..<wBlocks {
                for grp in 0..<groups {
                    let wg = w + b * wBlockStride + grp * groupWeights, dst = packed + (b * groups + grp) * pc
                    if transposed {
                        DirectConvAVX2.packWeightsFlippedTransposed(s, w: wg, into: dst)
                    } else {
                        DirectConvAVX2.packWeights(s, w: wg, into: dst)
                    }
                }
            }
        }) { packed in
            // the addend sits at the same offset from every output element
            let mode: DirectStore = accumulate ? .accumulate
                : addend.map { .addend(offset: UnsafePointer(output).distance(to: $0)) } ?? .overwrite
            let (inCount, outCount) = (s.inChannels * k.inSpatial, s.outChannels * k.outSpatial)
            directRun(s, inputs: k.batch, inCount: inCount, outCount: outCount, outBlock: k.batch * outCount, blocks: blocks,
                      x: input, xBlockStride: inputBlockStride, y: output, mode: mode, workers: workers, kernel: kernel) { b, slice in
                packed + ((wBlockStride == 0 ? 0 : b) * groups + slice % groups) * pc
            }
        }
    }

    /// The strided data gradient: per block and example, one `directBackwardData` of a single
    /// group (`groupSlices`, batch 1) whose blocks are the G groups, since group grp's dy, weights
    /// and dx sit one group's channels (and weights) after group grp - 1's.
    private static func groupedBackwardDataStrided(_ g: ConvGeometry, blocks: Int, dy: UnsafePointer<Float>, dyBlockStride: Int,
                                                   w: UnsafePointer<Float>, wBlockStride: Int, dx: UnsafeMutablePointer<Float>,
                                                   accumulate: Bool, workers: Int, avx512: Bool) {
        let one = groupSlices(g).withBatch(1)
        let (inCount, outCount) = (g.inChannels * g.inSpatial, g.outChannels * g.outSpatial)
        for b in 0..<blocks {
            for n in 0..<g.batch {
                directBackwardData(one, blocks: g.group, dy: dy + b * dyBlockStride + n * outCount,
                                   dyBlockStride: one.outChannels * one.outSpatial, w: w + b * wBlockStride,
                                   wBlockStride: one.weightCount, dx: dx + b * g.inputCount + n * inCount,
                                   accumulate: accumulate, workers: workers, avx512: avx512)
            }
        }
    }
}
