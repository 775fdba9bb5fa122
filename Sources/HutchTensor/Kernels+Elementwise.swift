/// Pointwise activations with their first and second derivatives side by side.
public enum UnaryOp: Sendable, Equatable {
    case relu
    case clip(min: Double, max: Double)
    case leakyRelu(alpha: Double)
    case sigmoid
    case tanh

    /// True when the second derivative is zero almost everywhere.
    public var isPiecewiseLinear: Bool {
        switch self {
        case .sigmoid, .tanh: false
        default: true
        }
    }
}

extension Kernels {
    /// y = f(x).
    @_specialize(exported: true, where Scalar == Float) @_specialize(exported: true, where Scalar == Double)
    public static func unaryForward<Scalar: TensorScalar>(_ op: UnaryOp, x: UnsafePointer<Scalar>,
                                                          y: UnsafeMutablePointer<Scalar>, count: Int) {
        switch op {
        case .relu: for i in 0..<count { let v = x[i]; y[i] = v > 0 ? v : 0 }
        case let .clip(lo, hi):
            let (l, h) = (Scalar(lo), Scalar(hi))
            for i in 0..<count { let v = x[i]; y[i] = v < l ? l : (v > h ? h : v) }
        case let .leakyRelu(alpha):
            let a = Scalar(alpha)
            for i in 0..<count { let v = x[i]; y[i] = v > 0 ? v : a * v }
        case .sigmoid:
            for i in 0..<count {
                let v = x[i]
                // stable on both sides
                if v >= 0 { y[i] = 1 / (1 + Scalar.exp(-v)) } else { let e = Scalar.exp(v); y[i] = e / (1 + e) }
            }
        case .tanh: for i in 0..<count { y[i] = Scalar.tanh(x[i]) }
        }
    }

    /// out[b, i] (+)= f'(x[i]) * g[b, i] for `blocks` stacked blocks of `count` (x, y primal).
    /// One pass over the elements: each chunk of x (and y) is read from memory once and reused
    /// from L1 by all blocks, instead of once per block.
    @_specialize(exported: true, where Scalar == Float) @_specialize(exported: true, where Scalar == Double)
    public static func unaryDerivativeTimes<Scalar: TensorScalar>(_ op: UnaryOp, x: UnsafePointer<Scalar>,
                                                                  y: UnsafePointer<Scalar>, g: UnsafePointer<Scalar>,
                                                                  out: UnsafeMutablePointer<Scalar>,
                                                                  count: Int, blocks: Int, accumulate: Bool) {
        parallelRanges(count) { range in
            var lo = range.lowerBound
            while lo < range.upperBound {
                let chunk = lo..<min(range.upperBound, lo + 2048)
                for b in 0..<blocks {
                    derivativeTimes(op, x: x, y: y, g: g + b * count, out: out + b * count, chunk, accumulate: accumulate)
                }
                lo = chunk.upperBound
            }
        }
    }

    /// out[i] (+)= f'(x[i]) * g[i] over one range of one block.
    @inline(__always)
    private static func derivativeTimes<Scalar: TensorScalar>(_ op: UnaryOp, x: UnsafePointer<Scalar>, y: UnsafePointer<Scalar>,
                                                             g gb: UnsafePointer<Scalar>, out ob: UnsafeMutablePointer<Scalar>,
                                                             _ range: Range<Int>, accumulate: Bool) {
        switch op {
        case .relu:
            // loads before the select, so that the loops vectorize
            if accumulate { for i in range { let v = gb[i], o = ob[i]; ob[i] = x[i] > 0 ? o + v : o } }
            else { for i in range { let v = gb[i]; ob[i] = x[i] > 0 ? v : 0 } }
        case let .clip(lo, hi):
            let (l, h) = (Scalar(lo), Scalar(hi))
            if accumulate { for i in range { let v = gb[i], o = ob[i], xi = x[i]; ob[i] = (xi >= l) && (xi <= h) ? o + v : o } }
            else { for i in range { let v = gb[i], xi = x[i]; ob[i] = (xi >= l) && (xi <= h) ? v : 0 } }
        case let .leakyRelu(alpha):
            let a = Scalar(alpha)
            if accumulate { for i in range { let v = gb[i]; ob[i] += x[i] > 0 ? v : a * v } }
            else { for i in range { let v = gb[i]; ob[i] = x[i] > 0 ? v : a * v } }
        case .sigmoid:
            if accumulate { for i in range { ob[i] += y[i] * (1 - y[i]) * gb[i] } }
            else { for i in range { ob[i] = y[i] * (1 - y[i]) * gb[i] } }
        case .tanh:
            if accumulate { for i in range { ob[i] += (1 - y[i] * y[i]) * gb[i] } }
            else { for i in range { ob[i] = (1 - y[i] * y[i]) * gb[i] } }
        }
    }

    /// out[b, i] += f''(x[i]) * t[b, i] * g[i]: the curvature term of the Hessian-vector
    /// product (t: tangent of x, g: primal adjoint of y). No-op for piecewise-linear ops.
    @_specialize(exported: true, where Scalar == Float) @_specialize(exported: true, where Scalar == Double)
    public static func unarySecondDerivativeTimes<Scalar: TensorScalar>(_ op: UnaryOp, y: UnsafePointer<Scalar>,
                                                                        t: UnsafePointer<Scalar>, g: UnsafePointer<Scalar>,
                                                                        out: UnsafeMutablePointer<Scalar>,
                                                                        count: Int, blocks: Int) {
        for b in 0..<blocks {
            let (tb, ob) = (t + b * count, out + b * count)
            switch op {
            case .sigmoid: for i in 0..<count { let s = y[i]; ob[i] += s * (1 - s) * (1 - 2 * s) * tb[i] * g[i] }
            case .tanh: for i in 0..<count { let v = y[i]; ob[i] += -2 * v * (1 - v * v) * tb[i] * g[i] }
            default: return
            }
        }
    }

    /// out[n, c, p] (+)= x[n, c, p] * scale[c] + shift[c] over `batch` examples (shift optional,
    /// scale optional meaning 1): conv bias, inference batch normalization.
    @_specialize(exported: true, where Scalar == Float) @_specialize(exported: true, where Scalar == Double)
    public static func channelAffine<Scalar: TensorScalar>(x: UnsafePointer<Scalar>?, scale: UnsafePointer<Scalar>?,
                                                           shift: UnsafePointer<Scalar>?, out: UnsafeMutablePointer<Scalar>,
                                                           batch: Int, channels: Int, spatial: Int, accumulate: Bool) {
        for n in 0..<batch {
            for c in 0..<channels {
                let o = out + (n * channels + c) * spatial
                let a = scale?[c] ?? 1, b = shift?[c] ?? 0
                if let x {
                    let xp = x + (n * channels + c) * spatial
                    if accumulate { for i in 0..<spatial { o[i] += xp[i] * a + b } }
                    else { for i in 0..<spatial { o[i] = xp[i] * a + b } }
                } else {
                    if accumulate { for i in 0..<spatial { o[i] += b } }
                    else { for i in 0..<spatial { o[i] = b } }
                }
            }
        }
    }

    /// out[b, c] += sum over n, p of dy[b, n, c, p] (bias gradients per block).
    @_specialize(exported: true, where Scalar == Float) @_specialize(exported: true, where Scalar == Double)
    public static func channelSum<Scalar: TensorScalar>(dy: UnsafePointer<Scalar>, out: UnsafeMutablePointer<Scalar>,
                                                        blocks: Int, batch: Int, channels: Int, spatial: Int) {
        for b in 0..<blocks {
            for n in 0..<batch {
                for c in 0..<channels {
                    let p = dy + ((b * batch + n) * channels + c) * spatial
                    var s: Scalar = 0
                    for i in 0..<spatial { s += p[i] }
                    out[b * channels + c] += s
                }
            }
        }
    }

    /// y += alpha * x.
    @_specialize(exported: true, where Scalar == Float) @_specialize(exported: true, where Scalar == Double)
    public static func axpy<Scalar: TensorScalar>(_ alpha: Scalar, x: UnsafePointer<Scalar>,
                                                  y: UnsafeMutablePointer<Scalar>, count: Int) {
        parallelRanges(count) { range in
            if alpha == 1 { for i in range { y[i] += x[i] } } else { for i in range { y[i] += alpha * x[i] } }
        }
    }
}

extension Kernels {
    /// sum_i a[i] * b[i], accumulated in Double blocks for accuracy. Each block of 256 is summed
    /// in 8 interleaved partial sums (lane j takes elements j, j + 8, ...), which vectorizes; a
    /// single running sum is a chain of dependent adds, 5 % of a Hutchinson probe. The order is
    /// fixed by the index alone, so the bits do not depend on the caller.
    @_specialize(exported: true, where Scalar == Float) @_specialize(exported: true, where Scalar == Double)
    public static func dot<Scalar: TensorScalar>(_ a: UnsafePointer<Scalar>, _ b: UnsafePointer<Scalar>, count: Int) -> Double {
        var total: Double = 0
        var i = 0
        while i < count {
            let end = min(count, i + 256)
            var lanes = SIMD8<Scalar>()
            var j = i
            while j + 8 <= end {
                let va = UnsafeRawPointer(a + j).loadUnaligned(as: SIMD8<Scalar>.self)
                let vb = UnsafeRawPointer(b + j).loadUnaligned(as: SIMD8<Scalar>.self)
                lanes += va * vb   // not addingProduct: that is a libm fma call on baseline x86-64
                j += 8
            }
            var s: Scalar = 0
            for lane in 0..<8 { s += lanes[lane] }
            while j < end { s += a[j] * b[j]; j += 1 }
            total += Double(s)
            i = end
        }
        return total
    }
}
