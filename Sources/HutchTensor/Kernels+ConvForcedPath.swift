/// Float convolutions forced onto one path, whatever `ConvPathTable` would pick: for benchmarks
/// that compare the paths side by side (EngineBenchmark's path tables).
extension Kernels {
    /// The forward convolution (input x, output y) or its data gradient (input dy, output dx;
    /// .im2col is GEMM + col2im there) on `path`; false, and the output untouched, when the path
    /// cannot run this direction and geometry on this CPU. Depthwise geometries are not compared.
    public static func conv2D(
        _ direction: ConvDirection, _ g: ConvGeometry, path: ConvPath, blocks: Int,
        input: UnsafePointer<Float>, inputBlockStride: Int, w: UnsafePointer<Float>, wBlockStride: Int,
        output: UnsafeMutablePointer<Float>, accumulate: Bool
    ) -> Bool {
        guard direction != .backwardWeight, !isDepthwise(g) else { return false }
        let (x, xs, y) = (input, inputBlockStride, output)
        switch (path, direction) {
        case (.direct, .forward):
            guard cpuHasAVX2FMA, directShape(g) != nil else { return false }
            directForward(g, blocks: blocks, x: x, xBlockStride: xs, w: w, wBlockStride: wBlockStride, y: y, accumulate: accumulate)
        case (.direct, _):
            guard cpuHasAVX2FMA, directDataPhases(g) != nil else { return false }
            directBackwardData(g, blocks: blocks, dy: x, dyBlockStride: xs, w: w, wBlockStride: wBlockStride, dx: y,
                               accumulate: accumulate)
        case (.grouped, _):
            guard cpuHasAVX2FMA, groupedFits(g, transposed: direction == .backwardData) else { return false }
            groupedDirect(g, transposed: direction == .backwardData, blocks: blocks, input: x, inputBlockStride: xs, w: w,
                          wBlockStride: wBlockStride, output: y, accumulate: accumulate)
        case (.winograd, .forward) where winogradShapeFits(g):
            winogradForward(g, blocks: blocks, x: x, xBlockStride: xs, w: w, wBlockStride: wBlockStride, y: y, accumulate: accumulate)
        case (.winograd4, .forward) where winograd4Fits(g):
            winograd4Forward(g, blocks: blocks, x: x, xBlockStride: xs, w: w, wBlockStride: wBlockStride, y: y, accumulate: accumulate)
        case (.winograd2, .forward) where winogradTilesFits(g), (.winograd4PerExample, .forward) where winogradTilesFits(g):
            winogradTilesForward(g, tile: path.winogradTile!, blocks: blocks, x: x, xBlockStride: xs, w: w, wBlockStride: wBlockStride,
                                 y: y, accumulate: accumulate)
        case (.im2col, .forward):
            conv2DForwardIm2col(g, blocks: blocks, x: x, xBlockStride: xs, w: w, wBlockStride: wBlockStride, y: y,
                                accumulate: accumulate)
        case (.im2col, _):
            conv2DBackwardDataIm2col(g, blocks: blocks, dy: x, dyBlockStride: xs, w: w, wBlockStride: wBlockStride, dx: y,
                                     accumulate: accumulate)
        case (.pointwise, .forward) where isPointwise(g):
            pointwise(g, transposed: false, blocks: blocks, input: x, inputBlockStride: xs, w: w, wBlockStride: wBlockStride,
                      output: y, accumulate: accumulate)
        case (.pointwise, _) where isPointwise(g):
            pointwise(g, transposed: true, blocks: blocks, input: x, inputBlockStride: xs, w: w, wBlockStride: wBlockStride,
                      output: y, accumulate: accumulate)
        default:
            return false
        }
        return true
    }

    /// The weight gradient (x, dy -> dw) on `path`: .direct or .im2col; false, and dw untouched,
    /// where the path cannot run it on this CPU.
    public static func conv2DBackwardWeight(
        _ g: ConvGeometry, path: ConvPath, blocks: Int, x: UnsafePointer<Float>, xBlockStride: Int,
        dy: UnsafePointer<Float>, dyBlockStride: Int, dw: UnsafeMutablePointer<Float>, accumulate: Bool
    ) -> Bool {
        guard !isDepthwise(g) else { return false }
        switch path {
        case .direct:
            guard cpuHasAVX2FMA, directShape(g) != nil else { return false }
            directBackwardWeight(g, blocks: blocks, x: x, xBlockStride: xBlockStride, dy: dy, dyBlockStride: dyBlockStride, dw: dw,
                                 accumulate: accumulate)
        case .im2col:
            conv2DBackwardWeightIm2col(g, blocks: blocks, x: x, xBlockStride: xBlockStride, dy: dy, dyBlockStride: dyBlockStride,
                                       dw: dw, accumulate: accumulate)
        default:
            return false
        }
        return true
    }
}
