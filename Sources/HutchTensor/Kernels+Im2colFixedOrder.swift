import HutchTensorAVX2
import HutchTensorAVX512

/// im2col's forward and data-gradient products for Float on AVX2 + FMA, on `FixedOrderGemm`
/// instead of OpenBLAS. A chunk's product has one column per output position of its examples,
/// so its column count follows the batch (`Im2colChunks`); OpenBLAS's Zen 3 kernels gave a
/// column other bits at another column count (a 512 x 4608 x 49 product: 1862 of 25088 outputs
/// differed between chunks of 1 and 8 examples), so an example's output depended on which
/// examples shared its call (quantization's calibration windows, Hutchinson's chunks, a
/// cluster's task cuts). `FixedOrderGemm` sums every element over the patch (or the output
/// channels) in one order whatever the column count, on its AVX2 and AVX-512 builds alike
/// (`Im2colFixedOrderTests`). It reads the weights in place (the data gradient as their
/// transpose): nothing packed, nothing cached. The weight gradient keeps OpenBLAS: it sums over
/// the chunk's examples anyway.
///
/// On ResNet-50's im2col shapes the forward runs as fast as on OpenBLAS (512->512 7x7 3x3: 79-85
/// against 77-87 GFLOP per CPU-second), the data gradient 4-8 % slower
/// (results/im2col-fixed-order-paths-imagenet.txt); with the first, smaller inner-dimension
/// blocks a ResNet-50 probe (batch 32, 4 per call) took 8.29 and 8.32 s against OpenBLAS's 8.55
/// and 8.06, with 35 MB more peak RSS. Packing the weights and caching them per job step gained no time and
/// held 570-650 MB more (results/im2col-fixed-order-resnet50-ab.txt).
extension Kernels {
    /// Whether im2col's Float products run here (HUTCH_IM2COL_FIXED=0 puts them back on OpenBLAS).
    static let im2colFixedOrder = cpuHasAVX2FMA && ConvPathTable.host.overrides.im2colFixedOrder

    /// `conv2DForwardIm2col` for Float: y[b] (+)= conv(x[b], w[b]).
    static func im2colForwardFixedOrder(
        _ g: ConvGeometry, blocks: Int,
        x: UnsafePointer<Float>, xBlockStride: Int,
        w: UnsafePointer<Float>, wBlockStride: Int,
        y: UnsafeMutablePointer<Float>, accumulate: Bool, avx512: Bool = directAVX512Enabled
    ) {
        let (patch, coutG) = (g.patchSize, g.outChannelsPerGroup)
        let (chunks, split) = im2colSplit(g)
        forEachChunk(g, chunks, parts: split.chunkParts, outRows: g.outChannels) { (_, col: UnsafeMutablePointer<Float>, tmp, n0, cn, ld) in
            for b in 0..<blocks {
                if b == 0 || xBlockStride != 0 {
                    im2colExamples(g, x + b * xBlockStride, first: n0, count: cn, into: col)
                }
                for grp in 0..<g.group {   // [C_out/G, patch] x [patch, positions]
                    fixedOrderMultiply(parts: split.rowParts, u: w + b * wBlockStride + grp * coutG * patch, rowStride: patch,
                                       columnStride: 1, rows: coutG, k: patch, v: col + grp * patch * ld, columns: ld,
                                       c: tmp + grp * coutG * ld, avx512: avx512)
                }
                scatterOutput(g, tmp, first: n0, count: cn, into: y + b * g.outputCount, accumulate: accumulate)
            }
        }
    }

    /// `conv2DBackwardDataIm2col` for Float: dx[b] += conv_transpose(dy[b], w[b]) (dx initialised).
    static func im2colBackwardDataFixedOrder(
        _ g: ConvGeometry, blocks: Int,
        dy: UnsafePointer<Float>, dyBlockStride: Int,
        w: UnsafePointer<Float>, wBlockStride: Int,
        dx: UnsafeMutablePointer<Float>, avx512: Bool = directAVX512Enabled
    ) {
        let (patch, coutG) = (g.patchSize, g.outChannelsPerGroup)
        let (chunks, split) = im2colSplit(g)
        forEachChunk(g, chunks, parts: split.chunkParts, outRows: g.outChannels) { (_, col: UnsafeMutablePointer<Float>, gmat, n0, cn, ld) in
            for b in 0..<blocks {
                if b == 0 || dyBlockStride != 0 {
                    gatherOutput(g, dy + b * dyBlockStride, first: n0, count: cn, into: gmat)
                }
                for grp in 0..<g.group {   // [patch, C_out/G] (the weights transposed) x [C_out/G, positions]
                    fixedOrderMultiply(parts: split.rowParts, u: w + b * wBlockStride + grp * coutG * patch, rowStride: 1,
                                       columnStride: patch, rows: patch, k: coutG, v: gmat + grp * coutG * ld, columns: ld,
                                       c: col + grp * patch * ld, avx512: avx512)
                }
                let dxb = dx + b * g.inputCount
                for i in 0..<cn {
                    col2im(g, col: col + i * g.outSpatial, ld: ld, x: dxb + (n0 + i) * g.inChannels * g.inSpatial)
                }
            }
        }
    }

    /// How the threads share an im2col call: a chunk each when there are at least as many chunks
    /// (`chunkParts` = threads), else one chunk at a time with every product's rows split among
    /// them (`rowParts` = threads): a Hutchinson chunk of 8 examples is one im2col chunk on
    /// ImageNet's 14x14 and 7x7 planes. Either way the same bits.
    static func im2colSplit(_ g: ConvGeometry) -> (Im2colChunks, (chunkParts: Int, rowParts: Int)) {
        let chunks = Im2colChunks(g), p = threads   // read once: a body on another thread would read that thread's budget
        return (chunks, chunks.count >= p ? (p, 1) : (1, p))
    }

    /// `fixedOrderMultiply` with U's rows split in blocks of 4 among `parts` threads: the same bits.
    static func fixedOrderMultiply(parts: Int, u: UnsafePointer<Float>, rowStride: Int, columnStride: Int, rows: Int, k: Int,
                                   v: UnsafePointer<Float>, columns: Int, c: UnsafeMutablePointer<Float>, avx512: Bool) {
        let blocks = (rows + 3) / 4, p = max(1, min(parts, blocks))
        parallelFor(p) { t in
            let (r0, r1) = (4 * (blocks * t / p), min(rows, 4 * (blocks * (t + 1) / p)))
            guard r1 > r0 else { return }
            fixedOrderMultiply(u: u + r0 * rowStride, rowStride: rowStride, columnStride: columnStride, rows: r1 - r0, k: k, v: v,
                               columns: columns, c: c + r0 * columns, avx512: avx512)
        }
    }

    /// C = U x V on the AVX-512 or AVX2 build (the same bits); U[r, i] at u[r * rowStride + i * columnStride].
    @inline(__always)
    static func fixedOrderMultiply(u: UnsafePointer<Float>, rowStride: Int, columnStride: Int, rows: Int, k: Int,
                                   v: UnsafePointer<Float>, columns: Int, c: UnsafeMutablePointer<Float>, avx512: Bool) {
        if avx512 {
            FixedOrderGemmAVX512.multiply(u: u, rowStride: rowStride, columnStride: columnStride, rows: rows, k: k, v: v,
                                          columns: columns, c: c)
        } else {
            FixedOrderGemm.multiply(u: u, rowStride: rowStride, columnStride: columnStride, rows: rows, k: k, v: v, columns: columns, c: c)
        }
    }
}
