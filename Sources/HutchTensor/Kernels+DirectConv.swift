import Foundation
import HutchTensorAVX2
import HutchTensorAVX512

/// Float convolutions by the direct kernels of HutchTensorAVX2 (8-column ymm vectors, 4 output
/// channels x 3 vectors per register tile) and HutchTensorAVX512 (16-column zmm vectors, 4 x 4),
/// each used only when /proc/cpuinfo reports the features its target was compiled for. Each
/// output element is summed in the fixed order (ci, kh, kw) with FMAs by one thread, so bits
/// depend neither on threads, blocks nor on which of the two kernels ran: block b's result
/// equals a single-block call on block b's operands. Threads split the examples.
extension Kernels {
    /// The host's features and the table's switches, as the kernels read them.
    static let cpuHasAVX2FMA = CPUFeatures.host.avx2FMA
    static let cpuHasAVX512 = CPUFeatures.host.avx512
    static let directConvEnabled = ConvPathTable.host.directEnabled
    static let directAVX512Enabled = ConvPathTable.host.avx512Enabled

    /// Which kernel runs a shape: with AVX-512 allowed, 8-column rows of even count as
    /// 16-column vectors over two rows (after `expand`), and otherwise the width whose row
    /// vectors compute fewer lanes (`PlaneVectors`: 16 for OW 16, 28 or 14; 8 for OW 56, 24 or 7),
    /// AVX-512 on a tie. All of them sum in the same order with FMAs: the same bits.
    /// `unpadded`: the input is read in place (the pointwise engine), so no vector may be wider
    /// than a row (the padded copy has `DirectConvShape.readSlack` after it); nil when none fits.
    enum DirectKernel { case avx2, avx512Rows, avx512Expanded }

    static func directKernel(_ s: DirectConvShape, allowed: Bool = directAVX512Enabled) -> DirectKernel {
        guard allowed else { return .avx2 }
        if directExpandedFits(s) { return .avx512Expanded }
        let lanes = { (v: Int) in PlaneVectors.perRow(s.outWidth, width: v) * v }
        return lanes(16) <= lanes(8) ? .avx512Rows : .avx2
    }

    /// Whether the expanded AVX-512 kernel can run the shape (OW 8, OH even).
    static func directExpandedFits(_ s: DirectConvShape) -> Bool { DirectConvAVX512.fitsExpanded(s) }

    static func directKernel(_ s: DirectConvShape, unpadded: Bool, allowed: Bool = directAVX512Enabled) -> DirectKernel? {
        let k = directKernel(s, allowed: allowed)
        guard unpadded else { return k }
        if s.outWidth < 8 { return nil }
        return k == .avx512Rows && s.outWidth < 16 ? .avx2 : k
    }

    /// Scratch floats per thread for one example's input: padded, or expanded for avx512Expanded.
    static func directScratchCount(_ s: DirectConvShape, _ kernel: DirectKernel) -> (padded: Int, expanded: Int) {
        kernel == .avx512Expanded ? (0, DirectConvAVX512.expandedCount(s)) : (s.paddedCount, 0)
    }

    /// One example's input into the kernel's layout: padded, or expanded straight from x.
    @inline(__always)
    static func directPrepare(_ s: DirectConvShape, _ kernel: DirectKernel, x: UnsafePointer<Float>,
                              padded: UnsafeMutablePointer<Float>, expanded: UnsafeMutablePointer<Float>) {
        if kernel == .avx512Expanded {
            DirectConvAVX512.expand(s, x: x, into: expanded)
        } else {
            DirectConvAVX2.padInput(s, x: x, into: padded)
        }
    }

    /// One example through the direct kernel, after `directPrepare`.
    @inline(__always)
    static func directExample(_ s: DirectConvShape, _ kernel: DirectKernel, padded: UnsafePointer<Float>,
                              expanded: UnsafePointer<Float>, packed: UnsafePointer<Float>,
                              y: UnsafeMutablePointer<Float>, accumulate: Bool) {
        directExample(s, kernel, padded: padded, expanded: expanded, packed: packed, y: y,
                      mode: accumulate ? .accumulate : .overwrite)
    }

    @inline(__always)
    static func directExample(_ s: DirectConvShape, _ kernel: DirectKernel, padded: UnsafePointer<Float>,
                              expanded: UnsafePointer<Float>, packed: UnsafePointer<Float>,
                              y: UnsafeMutablePointer<Float>, mode: DirectStore) {
        let skip = KernelOverrides.process.zeroChannels
        switch kernel {
        case .avx2: DirectConvAVX2.forward(s, padded: padded, packed: packed, y: y, mode: mode, skipZeroChannels: skip)
        case .avx512Rows: DirectConvAVX512.forward(s, padded: padded, packed: packed, y: y, mode: mode, skipZeroChannels: skip)
        case .avx512Expanded:
            DirectConvAVX512.forwardExpanded(s, expanded: expanded, packed: packed, y: y, mode: mode, skipZeroChannels: skip)
        }
    }

    /// The direct kernel's shape for this geometry, or nil when the kernel cannot run it
    /// (groups, dilations).
    static func directShape(_ g: ConvGeometry) -> DirectConvShape? {
        guard g.group == 1, g.dilationH == 1, g.dilationW == 1 else { return nil }
        let s = DirectConvShape(inChannels: g.inChannels, inHeight: g.inHeight, inWidth: g.inWidth, outChannels: g.outChannels,
                                kernelHeight: g.kernelHeight, kernelWidth: g.kernelWidth, strideH: g.strideH,
                                strideW: g.strideW, padTop: g.padTop, padLeft: g.padLeft, outHeight: g.outHeight,
                                outWidth: g.outWidth)
        return s.fits ? s : nil
    }

    /// The table's direct rule for a forward geometry (ConvPathTable).
    static func directApplies(_ g: ConvGeometry) -> Bool { ConvPathTable.host.direct(g) }

    /// How the weights given to `directForward` are laid out.
    enum DirectWeights {
        /// w [C_out, C_in, kH, kW] of the geometry itself.
        case forward
        /// The geometry is `strideOneTranspose` of a convolution whose w [C_in, C_out, kH, kW]
        /// (this geometry's channels) is given: the data gradient, packed without a flipped copy.
        case flippedTransposed
    }

    /// y[b] (+)= conv(x[b], w[b]) by the direct kernel; `workers` threads at most (tests vary it).
    /// With `addend` (y's layout), y[b] = addend[b] + conv(x[b], w[b]), added as the kernel stores.
    /// `kernel` forces one of the kernels (tests compare them; .avx512* only on AVX-512 CPUs).
    static func directForward(_ g: ConvGeometry, blocks: Int,
                              x: UnsafePointer<Float>, xBlockStride: Int,
                              w: UnsafePointer<Float>, wBlockStride: Int,
                              y: UnsafeMutablePointer<Float>, accumulate: Bool, workers: Int = threads,
                              avx512: Bool = directAVX512Enabled, weights: DirectWeights = .forward,
                              addend: UnsafePointer<Float>? = nil, kernel: DirectKernel? = nil) {
        guard cpuHasAVX2FMA, let s = directShape(g) else {
            preconditionFailure("directForward called for a geometry or CPU it does not support")
        }
        let kernel = kernel ?? directKernel(s, allowed: avx512)
        precondition(kernel == .avx2 || cpuHasAVX512, "directForward: an AVX-512 kernel on a CPU without AVX-512")
        precondition(kernel != .avx512Expanded || directExpandedFits(s), "directForward: the expanded kernel needs OW 8, OH even")
        let wBlocks = wBlockStride == 0 ? 1 : blocks
        let pc = s.packedWeightCount
        let key = PackedWeightCache.Key(w, blockStride: wBlockStride, blocks: wBlocks, geometry: g, layout: .direct(weights))
        withPacked(key, count: wBlocks * pc, pack: { packed in
            for b in 0..<wBlocks {
                switch weights {
                case .forward: DirectConvAVX2.packWeights(s, w: w + b * wBlockStride, into: packed + b * pc)
                case .flippedTransposed: DirectConvAVX2.packWeightsFlippedTransposed(s, w: w + b * wBlockStride, into: packed + b * pc)
                }
            }
        }) { packed in
            // the addend sits at the same offset from every y element
            let mode: DirectStore = accumulate ? .accumulate : addend.map { .addend(offset: UnsafePointer(y).distance(to: $0)) } ?? .overwrite
            let packedStride = wBlockStride == 0 ? 0 : pc
            directRun(s, inputs: g.batch, inCount: g.inChannels * g.inSpatial, outCount: g.outChannels * g.outSpatial,
                      outBlock: g.outputCount, blocks: blocks, x: x, xBlockStride: xBlockStride, y: y, mode: mode,
                      workers: workers, kernel: kernel) { b, _ in packed + b * packedStride }
        }
    }

    /// The inputs of a direct convolution through the kernel, each `inCount` floats, writing
    /// `outCount` (block b's outputs `outBlock` apart), block b of input e on the packed weights
    /// `packedAt(b, e)`: the examples of `directForward`, or the group slices of `groupedDirect`.
    static func directRun(_ s: DirectConvShape, inputs: Int, inCount: Int, outCount: Int, outBlock: Int, blocks: Int,
                          x: UnsafePointer<Float>, xBlockStride: Int, y: UnsafeMutablePointer<Float>, mode: DirectStore,
                          workers: Int, kernel: DirectKernel, packedAt: (Int, Int) -> UnsafePointer<Float>) {
        let scratch = directScratchCount(s, kernel)
        let items = ExampleItems(batch: inputs, blocks: blocks, sharedInput: xBlockStride == 0)
        parallelFor(items.threads(workers)) { _ in
            let padded = BufferPool.shared.scratch(scratch.padded, of: Float.self)
            let expanded = BufferPool.shared.scratch(scratch.expanded, of: Float.self)
            defer { BufferPool.shared.release(padded, scratch.padded); BufferPool.shared.release(expanded, scratch.expanded) }
            while case let (bs, e)? = items.next() {
                directPrepare(s, kernel, x: x + bs.lowerBound * xBlockStride + e * inCount, padded: padded, expanded: expanded)
                for b in bs {
                    directExample(s, kernel, padded: padded, expanded: expanded, packed: packedAt(b, e),
                                  y: y + b * outBlock + e * outCount, mode: mode)
                }
            }
        }
    }
}
