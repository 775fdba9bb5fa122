import HutchTensorAVX2
import HutchTensorAVX512

/// 3x3 stride-1 Float convolutions by Winograd F(2x2, 3x3) or F(4x4, 3x3) on the AVX2 kernels of
/// `WinogradTiles`, one example at a time like the direct kernel: 2.25x or 4x fewer multiply-adds
/// on the same register tile, for the small channel counts where the GEMM-based Winograd's
/// transforms and short products cost more than they save (ConvPathTable). Blocks that share the
/// input transform it once per example. Block b's result is a single-block call's, and no sum
/// depends on the thread or the slab, so bits depend only on the operands, the shape and the tile.
/// AVX-512 machines run the same AVX2 code: the same bits by construction. Their products' AVX-512
/// build (16 lanes, the same FMA chains) runs only with HUTCH_WINOGRAD_TILES_AVX512=1: its lanes
/// are tested on every machine by the same code compiled for AVX2, but it has not yet run on
/// AVX-512 hardware, and redundant execution compares bits across workers.
extension Kernels {
    /// Whether the kernel runs this geometry: any 3x3 stride-1 convolution without groups or
    /// dilation, any size and channel count (the table decides where it does).
    static func winogradTilesShapeFits(_ g: ConvGeometry) -> Bool {
        g.spatialRank == 2 && g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideH == 1 && g.strideW == 1
            && g.dilationH == 1 && g.dilationW == 1 && g.group == 1
    }

    /// Whether this CPU can run it on this geometry.
    static func winogradTilesFits(_ g: ConvGeometry) -> Bool { cpuHasAVX2FMA && winogradTilesShapeFits(g) }

    static func winogradTileShape(_ g: ConvGeometry, tile: Int) -> WinogradTileShape {
        WinogradTileShape(tile: tile, inChannels: g.inChannels, inHeight: g.inHeight, inWidth: g.inWidth, outChannels: g.outChannels,
                          padTop: g.padTop, padLeft: g.padLeft, outHeight: g.outHeight, outWidth: g.outWidth)
    }

    /// U = G w G^T of every (block, output channel, input channel), as `WinogradTileShape` lays it
    /// out per block: [xi][C_out / 4][C_in][4], zero past the last output channel; G of F(2x2) or
    /// F(4x4) as `s.tile` says. `.flippedTransposed`:
    /// the geometry is a data gradient's transposed forward and w the original [C_in, C_out, 3, 3]
    /// weights, read flipped (as `flippedTransposedWeights` would copy them).
    static func winogradTileWeights(_ g: ConvGeometry, _ s: WinogradTileShape, blocks: Int, w: UnsafePointer<Float>,
                                    wBlockStride: Int, layout: DirectWeights, into u: UnsafeMutablePointer<Float>) {
        let (cin, cout, fours) = (g.inChannels, g.outChannels, (g.outChannels + 3) / 4)
        let xiStride = fours * cin * 4
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 9) { kernel in
            let k = kernel.baseAddress!
            for b in 0..<blocks {
                let ub = u + b * s.packedWeightCount
                ub.update(repeating: 0, count: s.packedWeightCount)
                for co in 0..<cout {
                    for ci in 0..<cin {
                        let base = ub + ((co / 4) * cin + ci) * 4 + co % 4
                        let src: UnsafePointer<Float>
                        switch layout {
                        case .forward: src = w + b * wBlockStride + (co * cin + ci) * 9
                        case .flippedTransposed:
                            let original = w + b * wBlockStride + (ci * cout + co) * 9
                            for r in 0..<9 { k[r] = original[8 - r] }
                            src = UnsafePointer(k)
                        }
                        if s.tile == 2 {
                            winogradKernel(src) { xi, value in base[xi * xiStride] = value }
                        } else {
                            WinogradF4Matrices.kernel(src) { xi, value in base[xi * xiStride] = value }
                        }
                    }
                }
            }
        }
    }

    /// y[b] (+)= conv(x[b], w[b]) for a geometry `winogradTilesFits`, on tiles of `tile` (2 or 4);
    /// with `addend` (y's layout), y[b] = addend[b] + conv(x[b], w[b]), added as the outputs are
    /// stored. `weights` as in `directForward` (a data gradient's original weights, flipped as they
    /// are transformed). `products`: the build that runs the products (`winogradTilesProducts`;
    /// tests force the others).
    static func winogradTilesForward(_ g: ConvGeometry, tile: Int, blocks: Int, x: UnsafePointer<Float>, xBlockStride: Int,
                                     w: UnsafePointer<Float>, wBlockStride: Int, y: UnsafeMutablePointer<Float>,
                                     accumulate: Bool, addend: UnsafePointer<Float>? = nil, weights: DirectWeights = .forward,
                                     workers: Int = threads, products: WinogradProducts = winogradTilesProducts) {
        precondition(winogradTilesFits(g) && (products != .avx512 || cpuHasAVX512), "winogradTilesForward: shape or CPU does not fit")
        let s = winogradTileShape(g, tile: tile)
        let wBlocks = wBlockStride == 0 ? 1 : blocks
        let pc = s.packedWeightCount
        let key = PackedWeightCache.Key(w, blockStride: wBlockStride, blocks: wBlocks, geometry: g, layout: .winogradTiles(tile: tile, weights))
        withPacked(key, count: wBlocks * pc, pack: { u in
            winogradTileWeights(g, s, blocks: wBlocks, w: w, wBlockStride: wBlockStride, layout: weights, into: u)
        }) { u in
            let mode: DirectStore = accumulate ? .accumulate : addend.map { .addend(offset: UnsafePointer(y).distance(to: $0)) } ?? .overwrite
            let (inCount, outCount) = (g.inChannels * g.inSpatial, g.outChannels * g.outSpatial)
            let (padCount, vCount, mCount) = (s.padded.paddedCount, s.slabInputCount, s.slabProductCount)
            let (slab, fours) = (s.slabVectors, (g.outChannels + 3) / 4)
            let items = ExampleItems(batch: g.batch, blocks: blocks, sharedInput: xBlockStride == 0)
            parallelFor(items.threads(workers)) { _ in
                let padded = BufferPool.shared.scratch(padCount, of: Float.self)
                let v = BufferPool.shared.scratch(vCount, of: Float.self), m = BufferPool.shared.scratch(mCount, of: Float.self)
                defer {
                    BufferPool.shared.release(padded, padCount); BufferPool.shared.release(v, vCount)
                    BufferPool.shared.release(m, mCount)
                }
                while case let (bs, e)? = items.next() {
                    WinogradTiles.padPhases(s, x: x + bs.lowerBound * xBlockStride + e * inCount, into: padded)
                    for first in stride(from: 0, to: s.vectors, by: slab) {
                        let count = min(slab, s.vectors - first), even = count + count % 2   // 16 lanes read vectors in pairs
                        WinogradTiles.transformInput(s, padded: padded, first: first, count: even, into: v)
                        for b in bs {
                            let ub = u + (wBlockStride == 0 ? 0 : b * pc), yb = y + b * g.outputCount + e * outCount
                            for block in 0..<fours {
                                winogradTileMultiply(s, u: ub, block: block, v: v, count: even, m: m, kernel: products)
                                WinogradTiles.transformOutput(s, m: m, block: block, first: first, count: even, stored: count,
                                                              y: yb, mode: mode)
                            }
                        }
                    }
                }
            }
        }
    }

    /// The products' default build: AVX2, or AVX-512 where HUTCH_WINOGRAD_TILES_AVX512=1 and allowed.
    static let winogradTilesProducts: WinogradProducts =
        directAVX512Enabled && ConvPathTable.host.overrides.winogradTilesAVX512 ? .avx512 : .avx2

    /// Which build runs the products: the same sums, the same bits (`WinogradTileProducts`).
    /// `.sixteenLanesOnAVX2` is the AVX-512 code's width compiled for AVX2, for tests.
    enum WinogradProducts { case avx2, avx512, sixteenLanesOnAVX2 }

    @inline(__always)
    static func winogradTileMultiply(_ s: WinogradTileShape, u: UnsafePointer<Float>, block: Int, v: UnsafePointer<Float>, count: Int,
                                     m: UnsafeMutablePointer<Float>, kernel: WinogradProducts) {
        switch kernel {
        case .avx2: WinogradTiles.multiply(s, u: u, block: block, v: v, count: count, m: m)
        case .avx512: WinogradTilesAVX512.multiply(s, u: u, block: block, v: v, count: count, m: m)
        case .sixteenLanesOnAVX2: WinogradTiles.multiplySixteenLanes(s, u: u, block: block, v: v, count: count, m: m)
        }
    }
}
