/// The direct weight gradient dw[co][ci][kh][kw] = sum over (example, oy, ox) of
/// dy[co][oy][ox] * x[ci][oy * sH + kh - padTop][ox * sW + kw - padLeft], compiled for AVX2 + FMA
/// (same rules as DirectConv.swift: callers check the CPU first, entry points `@inline(never)`).
///
/// Vectorized over output channels, never over the sum: a lane is one weight, so each weight is
/// fma'd from zero over the positions in the fixed order (example, oy, ox) whatever the vector
/// width, tile, thread or block. The AVX-512 kernel (DirectWeightGradient512) runs the same
/// chains 16 lanes at a time: the same bits. Sums live in a packed accumulator
/// [C_out / 16 rounded up][steps rounded up to `tapGroup`][16] (`DirectWeightGradShape`) that
/// tiles load, extend over a range of rows and store back, so a chain can be continued over
/// any cut of the positions. dy is read transposed, [OH * OW][16 * groups] (`transposeOutput`);
/// x in `DirectConvAVX2.padInput`'s layout.
public struct DirectWeightGradShape: Sendable, Equatable {
    public let conv: DirectConvShape
    /// Steps per tile (ci, kh, kw): 12 at AVX-512 (one zmm each), 6 x 2 ymm at AVX2.
    public static let tapGroup = 12
    public static let lanes = 16

    public init(_ conv: DirectConvShape) { self.conv = conv }

    public var steps: Int { conv.inChannels * conv.kernelHeight * conv.kernelWidth }
    public var tapGroups: Int { (steps + Self.tapGroup - 1) / Self.tapGroup }
    public var paddedSteps: Int { tapGroups * Self.tapGroup }
    /// Groups of 16 output channels.
    public var channelGroups: Int { (conv.outChannels + Self.lanes - 1) / Self.lanes }
    /// Floats of one transposed dy row (one position): the channels rounded up to 16, zero after.
    public var transposedRow: Int { channelGroups * Self.lanes }
    public var transposedCount: Int { conv.outHeight * conv.outWidth * transposedRow }
    /// Floats of one block's packed accumulator.
    public var accumulatorCount: Int { channelGroups * paddedSteps * Self.lanes }
    /// Tiles of one block: (channel group, tap group) as group * tapGroups + tap group.
    public var tiles: Int { channelGroups * tapGroups }

    /// Calls body(first step, first lane of the channel group in a transposed dy row, offset in
    /// the block's accumulator) for each tile of `tiles`, in order.
    @inlinable @inline(__always)
    public func forEachTile(_ tiles: Range<Int>, _ body: (Int, Int, Int) -> Void) {
        for tile in tiles {
            let group = tile / tapGroups, k0 = (tile % tapGroups) * Self.tapGroup
            body(k0, group * Self.lanes, (group * paddedSteps + k0) * Self.lanes)
        }
    }

    /// off[k]: the padded input offset of step k = (ci, kh, kw) from an output position's first
    /// input; the steps past the last (a tile's padding, never stored) read offset 0.
    @inlinable @inline(__always)
    public func stepOffsets(_ off: UnsafeMutablePointer<Int>) {
        let s = conv, sw = s.strideW
        DirectVectors.stepOffsets(off, channels: s.inChannels, kh: s.kernelHeight, kw: s.kernelWidth,
                                  channelStride: s.channelStride) { i, j in i * s.rowStride + (j % sw) * s.phaseLength + j / sw }
        for k in steps..<paddedSteps { off[k] = 0 }
    }
}

public enum DirectWeightGradAVX2 {
    /// dy [C_out, OH, OW] of one example -> [OH * OW][transposedRow], zero past C_out.
    @inline(never)
    public static func transposeOutput(_ s: DirectWeightGradShape, dy: UnsafePointer<Float>, into t: UnsafeMutablePointer<Float>) {
        let positions = s.conv.outHeight * s.conv.outWidth, row = s.transposedRow, cout = s.conv.outChannels
        // blocks of 16 positions: 16 source rows read in short runs, the destination in whole lines
        var p0 = 0
        while p0 < positions {
            let pn = min(16, positions - p0)
            for co in 0..<cout {
                let src = dy + co * positions + p0
                var dst = t + p0 * row + co
                for p in 0..<pn { dst.pointee = src[p]; dst += row }
            }
            if cout < row {
                for p in 0..<pn { DirectConvAVX2.zero(t + (p0 + p) * row + cout, row - cout) }
            }
            p0 += pn
        }
    }

    /// Extends the chains of tiles `tiles` (`DirectWeightGradShape.tiles` numbering) over output
    /// rows `rows` of one example: padded input x, transposed dy, step offsets `off`, one
    /// block's packed accumulator `acc`.
    @inline(never)
    public static func accumulate(_ s: DirectWeightGradShape, padded x: UnsafePointer<Float>, transposed dy: UnsafePointer<Float>,
                                  off: UnsafePointer<Int>, rows: Range<Int>, tiles: Range<Int>, acc: UnsafeMutablePointer<Float>) {
        let ow = s.conv.outWidth, rowInput = s.conv.strideH * s.conv.rowStride, row = s.transposedRow
        let half = DirectWeightGradShape.tapGroup / 2
        s.forEachTile(tiles) { k0, lane, a in
            tile6(x, off + k0, dy + lane, row, rows, ow, rowInput, acc + a)
            tile6(x, off + k0 + half, dy + lane, row, rows, ow, rowInput, acc + a + half * DirectWeightGradShape.lanes)
        }
    }

    /// 6 steps x 16 channels (two ymm halves each): 12 accumulators.
    @inline(__always)
    static func tile6(_ x: UnsafePointer<Float>, _ off: UnsafePointer<Int>, _ dy: UnsafePointer<Float>, _ row: Int,
                      _ rows: Range<Int>, _ ow: Int, _ rowInput: Int, _ acc: UnsafeMutablePointer<Float>) {
        typealias V = SIMD8<Float>
        @inline(__always) func ld(_ p: UnsafePointer<Float>) -> V { DirectVectors.load(p) }
        var a0 = ld(acc), b0 = ld(acc + 8), a1 = ld(acc + 16), b1 = ld(acc + 24), a2 = ld(acc + 32), b2 = ld(acc + 40)
        var a3 = ld(acc + 48), b3 = ld(acc + 56), a4 = ld(acc + 64), b4 = ld(acc + 72), a5 = ld(acc + 80), b5 = ld(acc + 88)
        let (o0, o1, o2, o3, o4, o5) = (off[0], off[1], off[2], off[3], off[4], off[5])
        for oy in rows {
            let xr = x + oy * rowInput
            var d = dy + oy * ow * row
            for ox in 0..<ow {
                let lo = ld(d), hi = ld(d + 8)
                let xp = xr + ox
                var v = V(repeating: xp[o0]); a0 = a0.addingProduct(lo, v); b0 = b0.addingProduct(hi, v)
                v = V(repeating: xp[o1]); a1 = a1.addingProduct(lo, v); b1 = b1.addingProduct(hi, v)
                v = V(repeating: xp[o2]); a2 = a2.addingProduct(lo, v); b2 = b2.addingProduct(hi, v)
                v = V(repeating: xp[o3]); a3 = a3.addingProduct(lo, v); b3 = b3.addingProduct(hi, v)
                v = V(repeating: xp[o4]); a4 = a4.addingProduct(lo, v); b4 = b4.addingProduct(hi, v)
                v = V(repeating: xp[o5]); a5 = a5.addingProduct(lo, v); b5 = b5.addingProduct(hi, v)
                d += row
            }
        }
        @inline(__always) func st(_ v: V, _ p: UnsafeMutablePointer<Float>) {
            UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
        }
        st(a0, acc); st(b0, acc + 8); st(a1, acc + 16); st(b1, acc + 24); st(a2, acc + 32); st(b2, acc + 40)
        st(a3, acc + 48); st(b3, acc + 56); st(a4, acc + 64); st(b4, acc + 72); st(a5, acc + 80); st(b5, acc + 88)
    }

    /// One block's packed accumulator -> dw [C_out, C_in, kH, kW], stored or added.
    @inline(never)
    public static func unpack(_ s: DirectWeightGradShape, acc: UnsafePointer<Float>, dw: UnsafeMutablePointer<Float>, accumulate: Bool) {
        let steps = s.steps, lanes = DirectWeightGradShape.lanes
        for co in 0..<s.conv.outChannels {
            let src = acc + (co / lanes) * s.paddedSteps * lanes + co % lanes, dst = dw + co * steps
            if accumulate {
                for k in 0..<steps { dst[k] += src[k * lanes] }
            } else {
                for k in 0..<steps { dst[k] = src[k * lanes] }
            }
        }
    }
}
