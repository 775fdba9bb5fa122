import HutchTensorAVX2

/// The depthwise plane kernel with 16-column zmm vectors, compiled for AVX-512 (callers check the
/// CPU): the same FMA chains as DepthwiseConvAVX2, the same bits.
public enum DepthwiseConvAVX512 {
    /// `DepthwiseVectors.plane` at width 16; `vectors` built at width 16.
    @inline(never)
    public static func plane(_ x: UnsafePointer<Float>, offsets: UnsafePointer<Int>, weights: UnsafePointer<Float>, steps: Int,
                             vectors: PlaneVectors, y: UnsafeMutablePointer<Float>, mode: DirectStore) {
        DepthwiseVectors.plane(x, offsets: offsets, weights: weights, steps: steps, vectors: vectors, y: y, mode: mode,
                               as: SIMD16<Float>.self)
    }
}
