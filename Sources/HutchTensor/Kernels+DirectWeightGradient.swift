import HutchTensorAVX2
import HutchTensorAVX512

/// The Float weight gradient on the direct kernels (HutchTensorAVX2/DirectWeightGradient,
/// HutchTensorAVX512/DirectWeightGradient512): each weight is one vector lane, fma'd from zero
/// over the positions in the order (example, oy, ox), so its bits depend neither on the threads,
/// the blocks sharing a call, the tiles nor on which of the two kernels ran.
///
/// Threads split the weights (block, 16 output channels, 12 steps), never the sum: each runs
/// every example for its contiguous range of tiles, padding its own copy of an example's input
/// and transposing its dy. Memory: one packed accumulator per block (the block's weights, channels
/// rounded up to 16 and steps to 12) and per thread one padded example and one transposed dy.
extension Kernels {
    /// Output positions per cut of an example's rows: a tile's slice of the transposed dy (64
    /// bytes a position) stays in L1 while the tiles of its channel group run over it.
    static let weightGradientCutPositions = 256

    /// dw[b] (+)= correlation of x[b] with dy[b] by the direct kernels; `workers` parts at most
    /// (tests vary it); `avx512` picks the AVX-512 tiles (AVX-512 CPUs only), else AVX2's.
    static func directBackwardWeight(_ g: ConvGeometry, blocks: Int,
                                     x: UnsafePointer<Float>, xBlockStride: Int,
                                     dy: UnsafePointer<Float>, dyBlockStride: Int,
                                     dw: UnsafeMutablePointer<Float>, accumulate: Bool,
                                     workers: Int = threads, avx512: Bool = directAVX512Enabled) {
        guard cpuHasAVX2FMA, let c = directShape(g) else {
            preconditionFailure("directBackwardWeight called for a geometry or CPU it does not support")
        }
        precondition(!avx512 || cpuHasAVX512, "directBackwardWeight: AVX-512 tiles on a CPU without AVX-512")
        let s = DirectWeightGradShape(c)
        let ac = s.accumulatorCount
        let acc = BufferPool.shared.scratch(blocks * ac, of: Float.self)
        defer { BufferPool.shared.release(acc, blocks * ac) }
        acc.update(repeating: 0, count: blocks * ac)
        let tiles = blocks * s.tiles, parts = max(1, min(workers, tiles))
        let cutRows = max(1, min(c.outHeight, weightGradientCutPositions / c.outWidth))
        let inCount = g.inChannels * g.inSpatial, outCount = g.outChannels * g.outSpatial
        withUnsafeTemporaryAllocation(of: Int.self, capacity: s.paddedSteps) { table in
            s.stepOffsets(table.baseAddress!)
            let off = UnsafePointer(table.baseAddress!)
            parallelFor(parts) { part in
                let range = (tiles * part / parts)..<(tiles * (part + 1) / parts)
                guard !range.isEmpty else { return }
                let padded = BufferPool.shared.scratch(c.paddedCount, of: Float.self)
                let transposed = BufferPool.shared.scratch(s.transposedCount, of: Float.self)
                defer {
                    BufferPool.shared.release(padded, c.paddedCount)
                    BufferPool.shared.release(transposed, s.transposedCount)
                }
                let blockRange = (range.lowerBound / s.tiles)...((range.upperBound - 1) / s.tiles)
                for n in 0..<g.batch {
                    for b in blockRange {
                        let own = max(range.lowerBound - b * s.tiles, 0)..<min(range.upperBound - b * s.tiles, s.tiles)
                        if b == blockRange.lowerBound || xBlockStride != 0 {
                            DirectConvAVX2.padInput(c, x: x + b * xBlockStride + n * inCount, into: padded)
                        }
                        if b == blockRange.lowerBound || dyBlockStride != 0 {
                            DirectWeightGradAVX2.transposeOutput(s, dy: dy + b * dyBlockStride + n * outCount, into: transposed)
                        }
                        var r0 = 0
                        while r0 < c.outHeight {
                            let rows = r0..<min(c.outHeight, r0 + cutRows)
                            if avx512 {
                                DirectWeightGradAVX512.accumulate(s, padded: padded, transposed: transposed, off: off, rows: rows,
                                                                  tiles: own, acc: acc + b * ac)
                            } else {
                                DirectWeightGradAVX2.accumulate(s, padded: padded, transposed: transposed, off: off, rows: rows,
                                                                tiles: own, acc: acc + b * ac)
                            }
                            r0 = rows.upperBound
                        }
                    }
                }
            }
        }
        for b in 0..<blocks {
            DirectWeightGradAVX2.unpack(s, acc: acc + b * ac, dw: dw + b * g.weightCount, accumulate: accumulate)
        }
    }
}
