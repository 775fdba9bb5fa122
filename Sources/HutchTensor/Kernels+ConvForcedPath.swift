/// Float convolutions forced onto one path, whatever `ConvPathTable` would pick: for benchmarks
/// that compare the paths side by side (EngineBenchmark's path tables).
extension Kernels {
    /// conv2DForward (Float) on the given path, whatever the dispatch rule would pick; false (and
    /// y untouched) when the path cannot run this geometry on this CPU. For benchmarks.
    public static func conv2DForward(
        _ g: ConvGeometry, path: ConvPath, blocks: Int,
        x: UnsafePointer<Float>, xBlockStride: Int, w: UnsafePointer<Float>, wBlockStride: Int,
        y: UnsafeMutablePointer<Float>, accumulate: Bool
    ) -> Bool {
        guard !isDepthwise(g) else { return false }
        switch path {
        case .depthwise:
            return false
        case .direct:
            guard cpuHasAVX2FMA, directShape(g) != nil else { return false }
            directForward(g, blocks: blocks, x: x, xBlockStride: xBlockStride, w: w, wBlockStride: wBlockStride, y: y,
                          accumulate: accumulate)
        case .winograd:
            guard winogradShapeFits(g) else { return false }
            winogradForward(g, blocks: blocks, x: x, xBlockStride: xBlockStride, w: w, wBlockStride: wBlockStride, y: y,
                            accumulate: accumulate)
        case .im2col:
            conv2DForwardIm2col(g, blocks: blocks, x: x, xBlockStride: xBlockStride, w: w, wBlockStride: wBlockStride, y: y,
                                accumulate: accumulate)
        case .pointwise:
            guard isPointwise(g) else { return false }
            pointwiseForward(g, blocks: blocks, x: x, xBlockStride: xBlockStride, w: w, wBlockStride: wBlockStride, y: y,
                             accumulate: accumulate)
        }
        return true
    }

    /// conv2DBackwardData (Float) on the given path (.direct, .pointwise or .im2col: GEMM + col2im), whatever
    /// the dispatch rule would pick; false (and dx untouched) when the path cannot run it. For benchmarks.
    public static func conv2DBackwardData(
        _ g: ConvGeometry, path: ConvPath, blocks: Int,
        dy: UnsafePointer<Float>, dyBlockStride: Int, w: UnsafePointer<Float>, wBlockStride: Int,
        dx: UnsafeMutablePointer<Float>, accumulate: Bool
    ) -> Bool {
        guard !isDepthwise(g) else { return false }
        switch path {
        case .direct:
            guard cpuHasAVX2FMA, directDataPhases(g) != nil else { return false }
            directBackwardData(g, blocks: blocks, dy: dy, dyBlockStride: dyBlockStride, w: w, wBlockStride: wBlockStride, dx: dx,
                               accumulate: accumulate)
        case .winograd, .depthwise:
            return false
        case .im2col:
            conv2DBackwardDataIm2col(g, blocks: blocks, dy: dy, dyBlockStride: dyBlockStride, w: w, wBlockStride: wBlockStride,
                                     dx: dx, accumulate: accumulate)
        case .pointwise:
            guard isPointwise(g) else { return false }
            pointwiseBackwardData(g, blocks: blocks, dy: dy, dyBlockStride: dyBlockStride, w: w, wBlockStride: wBlockStride,
                                  dx: dx, accumulate: accumulate)
        }
        return true
    }
}

