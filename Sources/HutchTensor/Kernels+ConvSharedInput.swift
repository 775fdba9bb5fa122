import Foundation

/// Convolutions of one shared input with several weight blocks (the V·x and Vᵀg passes of the
/// Hessian quadratic forms: k probe directions, one activation), as one GEMM whose rows are the
/// stacked weight blocks. The input's patches are then read once per group of blocks instead of
/// once per block, and the GEMM has k·C_out rows instead of C_out: OpenBLAS runs 16x4096x144 at
/// about 80 GFLOP per CPU-second and 128x4096x144 at about 100 on this machine.
///
/// Bits: OpenBLAS's result for a row depends on the GEMM's row count, so a block's bits here
/// differ from a single-block call's in the last place; they depend only on the geometry and the
/// block count of the call (chunks are fixed by the geometry, each GEMM runs on one thread), not
/// on the thread count. Hence opt-in (below).
extension Kernels {
    /// Off by default (KernelOverrides.mergeBlocks): merged rows change a probe's bits with the number of
    /// probes in its call (OpenBLAS's row results depend on the row count), which breaks the
    /// guarantee that a probe's bits do not depend on its group
    /// (`ReproducibilityTests.testResultsDoNotDependOnCallGroupingBitForBit`), and the measured
    /// gain (+20-30 % on these passes at 16 channels, none at 32-64, about 4 % of a probe) does
    /// not pay for that.
    static let mergeBlocksEnabled = ConvPathTable.host.overrides.mergeBlocks

    /// Rows of the merged GEMM at most: bounds the result buffer (16 x rows x tiles in Winograd).
    static let mergedRows = 256

    /// Blocks per merged GEMM for this call, or nil when the blocks run separately. C_out a
    /// multiple of 16 (ResNet widths): whole row tiles of OpenBLAS's kernels.
    static func mergedBlocks(_ g: ConvGeometry, blocks: Int, xBlockStride: Int, wBlockStride: Int,
                             enabled: Bool = mergeBlocksEnabled) -> Int? {
        guard enabled, blocks > 1, xBlockStride == 0, wBlockStride == g.weightCount, g.group == 1,
              g.outChannels % 16 == 0 else { return nil }
        let per = max(1, mergedRows / g.outChannels)
        return per > 1 ? min(per, blocks) : nil
    }

    /// im2col path of `conv2DForward` for a shared x and contiguous weight blocks.
    @_specialize(exported: true, where Scalar == Float) @_specialize(exported: true, where Scalar == Double)
    static func conv2DForwardSharedInput<Scalar: TensorScalar>(
        _ g: ConvGeometry, blocks: Int, perGemm: Int,
        x: UnsafePointer<Scalar>, w: UnsafePointer<Scalar>,
        y: UnsafeMutablePointer<Scalar>, accumulate: Bool
    ) {
        let (cout, patch) = (g.outChannels, g.patchSize)
        // threads read once: a body on another thread would read that thread's budget
        forEachChunk(g, Im2colChunks(g), parts: threads, outRows: perGemm * cout) { _, col, tmp, n0, cn, ld in
            im2colExamples(g, x, first: n0, count: cn, into: col)
            for b0 in stride(from: 0, to: blocks, by: perGemm) {
                let mb = min(perGemm, blocks - b0)
                Scalar.gemm(transA: false, transB: false, m: mb * cout, n: ld, k: patch, alpha: 1,
                            a: w + b0 * g.weightCount, lda: patch, b: col, ldb: ld, beta: 0, c: tmp, ldc: ld)
                for bb in 0..<mb {
                    scatterOutput(g, tmp + bb * cout * ld, first: n0, count: cn, into: y + (b0 + bb) * g.outputCount,
                                  accumulate: accumulate)
                }
            }
        }
    }
}
