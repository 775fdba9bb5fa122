/// NCHW convolutions on the path `ConvPathTable` picks (depthwise, pointwise, direct, grouped, Winograd
/// or im2col + GEMM over chunks of examples, for any group count; im2col's Float products on
/// `FixedOrderGemm` where AVX2 allows, Kernels+Im2colFixedOrder).
///
/// Every kernel works on `blocks` stacked problems (the k probe directions of a
/// Hessian-vector product): block b reads `x + b * xBlockStride`, `w + b * wBlockStride`, ...
/// A stride of 0 shares one operand between all blocks, so its im2col is computed once.
/// Block b's result is bit-identical to a single-block call on block b's operands (unless
/// HUTCH_MERGE_BLOCKS=1 merges weight blocks on a shared input, Kernels+ConvSharedInput). Bits
/// never depend on the thread count.
extension Kernels {
    /// y[b] (+)= conv(x[b], w[b]); y holds `blocks * g.outputCount` scalars. With `addend` (and
    /// accumulate false), y[b] = addend[b] + conv(x[b], w[b]): the direct kernel adds it as it
    /// stores, saving a pass; other paths copy it first. Same bits either way.
    @_specialize(exported: true, where Scalar == Float) @_specialize(exported: true, where Scalar == Double)
    public static func conv2DForward<Scalar: TensorScalar>(
        _ geometry: ConvGeometry, blocks: Int,
        x: UnsafePointer<Scalar>, xBlockStride: Int,
        w: UnsafePointer<Scalar>, wBlockStride: Int,
        y: UnsafeMutablePointer<Scalar>, accumulate: Bool, addend: UnsafePointer<Scalar>? = nil
    ) {
        precondition(addend == nil || !accumulate, "conv2DForward: an addend replaces accumulate")
        let path = ConvPathTable.host.path(geometry, .forward, float: Scalar.self == Float.self)
        var (accumulate, addend) = (accumulate, addend)
        if let a = addend, !path.storesAddend {
            y.update(from: a, count: blocks * geometry.outputCount)
            (accumulate, addend) = (true, nil)
        }
        conv2DForward(path, geometry, blocks: blocks, x: x, xBlockStride: xBlockStride, w: w, wBlockStride: wBlockStride,
                      y: y, accumulate: accumulate, addend: addend)
    }

    /// `conv2DForward` on a path the table chose for this geometry and scalar; an addend only on .direct.
    @_specialize(exported: true, where Scalar == Float) @_specialize(exported: true, where Scalar == Double)
    static func conv2DForward<Scalar: TensorScalar>(
        _ path: ConvPath, _ g: ConvGeometry, blocks: Int,
        x: UnsafePointer<Scalar>, xBlockStride: Int,
        w: UnsafePointer<Scalar>, wBlockStride: Int,
        y: UnsafeMutablePointer<Scalar>, accumulate: Bool, addend: UnsafePointer<Scalar>?
    ) {
        switch path {
        case .depthwise:
            depthwise(g, transposed: false, blocks: blocks, input: x, inputBlockStride: xBlockStride, w: w, wBlockStride: wBlockStride,
                      output: y, accumulate: accumulate)
        case .pointwise:
            pointwise(g, transposed: false, blocks: blocks, input: x, inputBlockStride: xBlockStride, w: w, wBlockStride: wBlockStride,
                      output: y, accumulate: accumulate)
        case .direct:
            directForward(g, blocks: blocks, x: floats(x), xBlockStride: xBlockStride, w: floats(w), wBlockStride: wBlockStride,
                          y: floats(y), accumulate: accumulate, addend: addend.map(floats))
        case .grouped:
            groupedDirect(g, transposed: false, blocks: blocks, input: floats(x), inputBlockStride: xBlockStride, w: floats(w),
                          wBlockStride: wBlockStride, output: floats(y), accumulate: accumulate, addend: addend.map(floats))
        case .winograd:
            winogradForward(g, blocks: blocks, x: x, xBlockStride: xBlockStride, w: w, wBlockStride: wBlockStride,
                            y: y, accumulate: accumulate)
        case .winograd4:
            winograd4Forward(g, blocks: blocks, x: floats(x), xBlockStride: xBlockStride, w: floats(w), wBlockStride: wBlockStride,
                             y: floats(y), accumulate: accumulate)
        case .winograd2, .winograd4PerExample:
            winogradTilesForward(g, tile: path.winogradTile!, blocks: blocks, x: floats(x), xBlockStride: xBlockStride, w: floats(w),
                                 wBlockStride: wBlockStride, y: floats(y), accumulate: accumulate, addend: addend.map(floats))
        case .im2col:
            if let perGemm = mergedBlocks(g, blocks: blocks, xBlockStride: xBlockStride, wBlockStride: wBlockStride) {
                return conv2DForwardSharedInput(g, blocks: blocks, perGemm: perGemm, x: x, w: w, y: y, accumulate: accumulate)
            }
            conv2DForwardIm2col(g, blocks: blocks, x: x, xBlockStride: xBlockStride, w: w, wBlockStride: wBlockStride,
                                y: y, accumulate: accumulate)
        }
    }

    /// A Float path's operand (the table picks Float-only paths for Float alone).
    @inline(__always)
    static func floats<Scalar>(_ p: UnsafePointer<Scalar>) -> UnsafePointer<Float> {
        UnsafeRawPointer(p).assumingMemoryBound(to: Float.self)
    }

    @inline(__always)
    static func floats<Scalar>(_ p: UnsafeMutablePointer<Scalar>) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self)
    }

    /// The im2col + GEMM path of `conv2DForward` (any geometry; tests and benchmarks call it directly).
    @_specialize(exported: true, where Scalar == Float) @_specialize(exported: true, where Scalar == Double)
    static func conv2DForwardIm2col<Scalar: TensorScalar>(
        _ geometry: ConvGeometry, blocks: Int,
        x: UnsafePointer<Scalar>, xBlockStride: Int,
        w: UnsafePointer<Scalar>, wBlockStride: Int,
        y: UnsafeMutablePointer<Scalar>, accumulate: Bool
    ) {
        if Scalar.self == Float.self, im2colFixedOrder {
            return im2colForwardFixedOrder(geometry, blocks: blocks, x: floats(x), xBlockStride: xBlockStride, w: floats(w),
                                           wBlockStride: wBlockStride, y: floats(y), accumulate: accumulate)
        }
        // Blocks with their own inputs are never merged into one larger batch: every block then
        // runs the GEMMs of the same shapes as a single-block call.
        let g = geometry
        let (cout, os, patch, coutG) = (g.outChannels, g.outSpatial, g.patchSize, g.outChannelsPerGroup)
        // threads read once: a body on another thread would read that thread's budget
        forEachChunk(g, Im2colChunks(g), parts: threads, outRows: cout) { _, col, tmp, n0, cn, ld in
            for b in 0..<blocks {
                if b == 0 || xBlockStride != 0 {
                    im2colExamples(g, x + b * xBlockStride, first: n0, count: cn, into: col)
                }
                let wb = w + b * wBlockStride
                let yb = y + b * g.outputCount
                if cn == 1 {
                    // one example: the GEMM's [C_out, OH*OW] result is already its NCHW slice
                    for grp in 0..<g.group {
                        Scalar.gemm(transA: false, transB: false, m: coutG, n: ld, k: patch, alpha: 1,
                                    a: wb + grp * coutG * patch, lda: patch, b: col + grp * patch * ld, ldb: ld,
                                    beta: accumulate ? 1 : 0, c: yb + (n0 * cout + grp * coutG) * os, ldc: ld)
                    }
                    continue
                }
                for grp in 0..<g.group {
                    Scalar.gemm(transA: false, transB: false, m: coutG, n: ld, k: patch, alpha: 1,
                                a: wb + grp * coutG * patch, lda: patch, b: col + grp * patch * ld, ldb: ld,
                                beta: 0, c: tmp + grp * coutG * ld, ldc: ld)
                }
                scatterOutput(g, tmp, first: n0, count: cn, into: yb, accumulate: accumulate)
            }
        }
    }

    /// dx[b] (+)= conv_transpose(dy[b], w[b]): the adjoint of `conv2DForward` in x.
    @_specialize(exported: true, where Scalar == Float) @_specialize(exported: true, where Scalar == Double)
    public static func conv2DBackwardData<Scalar: TensorScalar>(
        _ g: ConvGeometry, blocks: Int,
        dy: UnsafePointer<Scalar>, dyBlockStride: Int,
        w: UnsafePointer<Scalar>, wBlockStride: Int,
        dx: UnsafeMutablePointer<Scalar>, accumulate: Bool, addend: UnsafePointer<Scalar>? = nil
    ) {
        precondition(addend == nil || !accumulate, "conv2DBackwardData: an addend replaces accumulate")
        let table = ConvPathTable.host
        let path = table.path(g, .backwardData, float: Scalar.self == Float.self)
        let t = path == .depthwise || path == .pointwise ? nil : table.transposed(g)
        var (accumulate, addend) = (accumulate, addend)
        // the stride-1 data gradient runs as the transposed forward; grouped takes the addend either way
        if let a = addend, !path.storesAddend || (t == nil && path != .grouped) {
            dx.update(from: a, count: blocks * g.inputCount)
            (accumulate, addend) = (true, nil)
        }
        switch (path, t) {
        case (.depthwise, _):
            depthwise(g, transposed: true, blocks: blocks, input: dy, inputBlockStride: dyBlockStride, w: w, wBlockStride: wBlockStride,
                      output: dx, accumulate: accumulate)
        case (.pointwise, _):
            pointwise(g, transposed: true, blocks: blocks, input: dy, inputBlockStride: dyBlockStride, w: w, wBlockStride: wBlockStride,
                      output: dx, accumulate: accumulate)
        case (.grouped, _):
            groupedDirect(g, transposed: true, blocks: blocks, input: floats(dy), inputBlockStride: dyBlockStride, w: floats(w),
                          wBlockStride: wBlockStride, output: floats(dx), accumulate: accumulate, addend: addend.map(floats))
        case (.direct, let t?):
            directForward(t, blocks: blocks, x: floats(dy), xBlockStride: dyBlockStride, w: floats(w), wBlockStride: wBlockStride,
                          y: floats(dx), accumulate: accumulate, weights: .flippedTransposed, addend: addend.map(floats))
        case (.winograd2, let t?), (.winograd4PerExample, let t?):
            winogradTilesForward(t, tile: path.winogradTile!, blocks: blocks, x: floats(dy), xBlockStride: dyBlockStride, w: floats(w),
                                 wBlockStride: wBlockStride, y: floats(dx), accumulate: accumulate, addend: addend.map(floats),
                                 weights: .flippedTransposed)
        case (_, let t?):
            let wBlocks = wBlockStride == 0 ? 1 : blocks
            let flipped = BufferPool.shared.scratch(wBlocks * g.weightCount, of: Scalar.self)
            defer { BufferPool.shared.release(flipped, wBlocks * g.weightCount) }
            flippedTransposedWeights(g, blocks: wBlocks, w: w, into: flipped)
            conv2DForward(path, t, blocks: blocks, x: dy, xBlockStride: dyBlockStride, w: flipped,
                          wBlockStride: wBlockStride == 0 ? 0 : g.weightCount, y: dx, accumulate: accumulate, addend: nil)
        case (.direct, nil):
            directBackwardData(g, blocks: blocks, dy: floats(dy), dyBlockStride: dyBlockStride, w: floats(w),
                               wBlockStride: wBlockStride, dx: floats(dx), accumulate: accumulate)
        case (_, nil):
            conv2DBackwardDataIm2col(g, blocks: blocks, dy: dy, dyBlockStride: dyBlockStride, w: w, wBlockStride: wBlockStride,
                                     dx: dx, accumulate: accumulate)
        }
    }

    /// The GEMM + col2im path of `conv2DBackwardData` (any geometry; tests and benchmarks call it directly).
    @_specialize(exported: true, where Scalar == Float) @_specialize(exported: true, where Scalar == Double)
    static func conv2DBackwardDataIm2col<Scalar: TensorScalar>(
        _ g: ConvGeometry, blocks: Int,
        dy: UnsafePointer<Scalar>, dyBlockStride: Int,
        w: UnsafePointer<Scalar>, wBlockStride: Int,
        dx: UnsafeMutablePointer<Scalar>, accumulate: Bool
    ) {
        if !accumulate { dx.update(repeating: 0, count: blocks * g.inputCount) }
        if Scalar.self == Float.self, im2colFixedOrder {
            return im2colBackwardDataFixedOrder(g, blocks: blocks, dy: floats(dy), dyBlockStride: dyBlockStride, w: floats(w),
                                                wBlockStride: wBlockStride, dx: floats(dx))
        }
        let (patch, coutG) = (g.patchSize, g.outChannelsPerGroup)
        forEachChunk(g, Im2colChunks(g), parts: threads, outRows: g.outChannels) { _, col, gmat, n0, cn, ld in
            for b in 0..<blocks {
                if b == 0 || dyBlockStride != 0 {
                    gatherOutput(g, dy + b * dyBlockStride, first: n0, count: cn, into: gmat)
                }
                let wb = w + b * wBlockStride
                for grp in 0..<g.group {
                    Scalar.gemm(transA: true, transB: false, m: patch, n: ld, k: coutG, alpha: 1,
                                a: wb + grp * coutG * patch, lda: patch, b: gmat + grp * coutG * ld, ldb: ld,
                                beta: 0, c: col + grp * patch * ld, ldc: ld)
                }
                let dxb = dx + b * g.inputCount
                for i in 0..<cn {
                    col2im(g, col: col + i * g.outSpatial, ld: ld, x: dxb + (n0 + i) * g.inChannels * g.inSpatial)
                }
            }
        }
    }

    /// dw[b] (+)= correlation of x[b] with dy[b]: the adjoint of `conv2DForward` in w.
    /// dw holds `blocks * g.weightCount` scalars.
    @_specialize(exported: true, where Scalar == Float) @_specialize(exported: true, where Scalar == Double)
    public static func conv2DBackwardWeight<Scalar: TensorScalar>(
        _ g: ConvGeometry, blocks: Int,
        x: UnsafePointer<Scalar>, xBlockStride: Int,
        dy: UnsafePointer<Scalar>, dyBlockStride: Int,
        dw: UnsafeMutablePointer<Scalar>, accumulate: Bool
    ) {
        switch ConvPathTable.host.path(g, .backwardWeight, float: Scalar.self == Float.self) {
        case .depthwise:
            depthwiseBackwardWeight(g, blocks: blocks, x: x, xBlockStride: xBlockStride, dy: dy,
                                    dyBlockStride: dyBlockStride, dw: dw, accumulate: accumulate)
        case .direct:
            directBackwardWeight(g, blocks: blocks, x: floats(x), xBlockStride: xBlockStride, dy: floats(dy),
                                 dyBlockStride: dyBlockStride, dw: floats(dw), accumulate: accumulate)
        default:
            conv2DBackwardWeightIm2col(g, blocks: blocks, x: x, xBlockStride: xBlockStride, dy: dy, dyBlockStride: dyBlockStride,
                                       dw: dw, accumulate: accumulate)
        }
    }

    /// The im2col + GEMM path of `conv2DBackwardWeight` (any geometry; tests and benchmarks call it directly).
    @_specialize(exported: true, where Scalar == Float) @_specialize(exported: true, where Scalar == Double)
    static func conv2DBackwardWeightIm2col<Scalar: TensorScalar>(
        _ g: ConvGeometry, blocks: Int,
        x: UnsafePointer<Scalar>, xBlockStride: Int,
        dy: UnsafePointer<Scalar>, dyBlockStride: Int,
        dw: UnsafeMutablePointer<Scalar>, accumulate: Bool
    ) {
        if !accumulate { dw.update(repeating: 0, count: blocks * g.weightCount) }
        let (patch, coutG) = (g.patchSize, g.outChannelsPerGroup)
        let chunks = Im2colChunks(g)
        // A fixed number of partial sums over contiguous chunk ranges, added in order at the end:
        // the bits do not depend on the thread count.
        let slices = min(chunks.count, 8)
        let partial = BufferPool.shared.scratch(slices * blocks * g.weightCount, of: Scalar.self)
        defer { BufferPool.shared.release(partial, slices * blocks * g.weightCount) }
        partial.update(repeating: 0, count: slices * blocks * g.weightCount)
        forEachChunk(g, chunks, parts: slices, outRows: g.outChannels) { slice, col, gmat, n0, cn, ld in
            for b in 0..<blocks {
                if b == 0 || xBlockStride != 0 {
                    im2colExamples(g, x + b * xBlockStride, first: n0, count: cn, into: col)
                }
                if b == 0 || dyBlockStride != 0 {
                    gatherOutput(g, dy + b * dyBlockStride, first: n0, count: cn, into: gmat)
                }
                let dwb = partial + (slice * blocks + b) * g.weightCount
                for grp in 0..<g.group {
                    Scalar.gemm(transA: false, transB: true, m: coutG, n: patch, k: ld, alpha: 1,
                                a: gmat + grp * coutG * ld, lda: ld, b: col + grp * patch * ld, ldb: ld,
                                beta: 1, c: dwb + grp * coutG * patch, ldc: patch)
                }
            }
        }
        for slice in 0..<slices {
            axpy(1, x: partial + slice * blocks * g.weightCount, y: dw, count: blocks * g.weightCount)
        }
    }
}
