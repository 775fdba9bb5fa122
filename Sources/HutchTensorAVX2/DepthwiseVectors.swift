/// The depthwise convolution's plane kernel at vector width V (SIMD8 / SIMD16 of Float), shared by
/// DepthwiseConvAVX2 and DepthwiseConvAVX512. `@inlinable` and always inlined, so that each
/// compiles it for its own target's CPU (as `DirectVectors`).
///
/// One output plane from one or more padded input planes (`DirectConvAVX2.padInput` layout with
/// one channel): every output vector (`PlaneVectors`, any width) is fma'd from zero over the
/// steps k in order, acc = fma(x[vector input + offsets[k]], weights[k], acc), and stored once.
/// A lane's sum is one FMA chain in step order whatever the vector width, tile or tail: both
/// widths give the same bits.
public enum DepthwiseVectors {
    /// y (+)= the steps' sums over `vectors`; `steps` 9 and 25 (3x3, 5x5) are unrolled.
    @inlinable @inline(__always)
    public static func plane<V: SIMD>(_ x: UnsafePointer<Float>, offsets: UnsafePointer<Int>, weights: UnsafePointer<Float>,
                                      steps: Int, vectors: PlaneVectors, y: UnsafeMutablePointer<Float>, mode: DirectStore,
                                      as: V.Type) where V.Scalar == Float {
        switch steps {
        case 9: tiles(x, offsets, weights, 9, vectors, y, mode, V.self)
        case 25: tiles(x, offsets, weights, 25, vectors, y, mode, V.self)
        default: tiles(x, offsets, weights, steps, vectors, y, mode, V.self)
        }
    }

    /// Four vectors at a time (four independent FMA chains hide the FMA latency), then one.
    @inlinable @inline(__always)
    static func tiles<V: SIMD>(_ x: UnsafePointer<Float>, _ off: UnsafePointer<Int>, _ w: UnsafePointer<Float>, _ steps: Int,
                               _ pv: PlaneVectors, _ y: UnsafeMutablePointer<Float>, _ mode: DirectStore, _: V.Type)
    where V.Scalar == Float {
        let (vi, vo, vl, count) = (pv.input, pv.output, pv.lanes, pv.count)
        var index = V()
        for l in 0..<V.scalarCount { index[l] = Float(l) }
        var v = 0
        while v + 4 <= count {
            var a0 = V(), a1 = V(), a2 = V(), a3 = V()
            let (x0, x1, x2, x3) = (x + vi[v], x + vi[v + 1], x + vi[v + 2], x + vi[v + 3])
            for k in 0..<steps {
                let o = off[k], wk = V(repeating: w[k])
                a0 = a0.addingProduct(DirectVectors.load(x0 + o), wk)
                a1 = a1.addingProduct(DirectVectors.load(x1 + o), wk)
                a2 = a2.addingProduct(DirectVectors.load(x2 + o), wk)
                a3 = a3.addingProduct(DirectVectors.load(x3 + o), wk)
            }
            store(a0, y + vo[v], mode, vl[v], index)
            store(a1, y + vo[v + 1], mode, vl[v + 1], index)
            store(a2, y + vo[v + 2], mode, vl[v + 2], index)
            store(a3, y + vo[v + 3], mode, vl[v + 3], index)
            v += 4
        }
        while v < count {
            var a = V()
            let x0 = x + vi[v]
            for k in 0..<steps { a = a.addingProduct(DirectVectors.load(x0 + off[k]), V(repeating: w[k])) }
            store(a, y + vo[v], mode, vl[v], index)
            v += 1
        }
    }

    /// v into y at p, lanes `lanes` (`PlaneVectors.lanes`). A row's overlapping last vector (its
    /// lanes end at V) is stored whole: the lanes before its first were stored by the vector
    /// before it with the same bits, so they are written again as they are, or, accumulating,
    /// kept from y by a blend. Rows narrower than V store lane by lane (`DirectVectors.store`).
    @inlinable @inline(__always)
    static func store<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<Float>, _ mode: DirectStore, _ lanes: Int, _ index: V)
    where V.Scalar == Float {
        let first = lanes >> 8
        guard first > 0 && lanes & 255 == V.scalarCount else { return DirectVectors.store(v, p, mode, lanes: lanes) }
        switch mode {
        case .overwrite:
            UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
        case .accumulate:
            let old: V = DirectVectors.load(p)
            UnsafeMutableRawPointer(p).storeBytes(of: old.replacing(with: old + v, where: index .>= V(repeating: Float(first))),
                                                  as: V.self)
        case .addend:
            DirectVectors.store(v, p, mode, lanes: lanes)
        }
    }
}

/// The plane kernel with 8-column ymm vectors, compiled for AVX2 + FMA (callers check the CPU).
public enum DepthwiseConvAVX2 {
    /// `DepthwiseVectors.plane` at width 8; `vectors` built at width 8.
    @inline(never)
    public static func plane(_ x: UnsafePointer<Float>, offsets: UnsafePointer<Int>, weights: UnsafePointer<Float>, steps: Int,
                             vectors: PlaneVectors, y: UnsafeMutablePointer<Float>, mode: DirectStore) {
        DepthwiseVectors.plane(x, offsets: offsets, weights: weights, steps: steps, vectors: vectors, y: y, mode: mode,
                               as: SIMD8<Float>.self)
    }
}
