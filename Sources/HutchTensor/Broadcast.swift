/// NumPy broadcasting of two shapes, coalesced into as few dimensions as possible so that
/// elementwise loops run long contiguous inner loops.
public struct BroadcastPlan: Sendable, Equatable {
    public var outShape: [Int]
    /// Coalesced dims with each operand's stride (0 where broadcast).
    public var dims: [Int]
    public var aStrides: [Int]
    public var bStrides: [Int]

    public init(_ a: [Int], _ b: [Int]) throws(ShapeError) {
        let rank = max(a.count, b.count)
        let pa = Array(repeating: 1, count: rank - a.count) + a
        let pb = Array(repeating: 1, count: rank - b.count) + b
        var out = [Int]()
        for i in 0..<rank {
            if pa[i] == pb[i] || pb[i] == 1 { out.append(pa[i]) }
            else if pa[i] == 1 { out.append(pb[i]) }
            else { throw ShapeError("shapes \(a) and \(b) do not broadcast") }
        }
        outShape = out
        // coalesce: drop size-1 dims, merge neighbours with the same broadcast pattern
        var dims = [Int](), fa = [Bool](), fb = [Bool]()
        for i in 0..<rank where out[i] != 1 {
            let (ua, ub) = (pa[i] != 1, pb[i] != 1)
            if let last = dims.indices.last, fa[last] == ua, fb[last] == ub {
                dims[last] *= out[i]
            } else {
                dims.append(out[i]); fa.append(ua); fb.append(ub)
            }
        }
        if dims.isEmpty { dims = [1]; fa = [true]; fb = [true] }
        func strides(_ used: [Bool]) -> [Int] {
            var s = [Int](repeating: 0, count: dims.count), acc = 1
            for i in stride(from: dims.count - 1, through: 0, by: -1) where used[i] {
                s[i] = acc; acc *= dims[i]
            }
            return s
        }
        self.dims = dims
        aStrides = strides(fa)
        bStrides = strides(fb)
    }

    public var outCount: Int { outShape.reduce(1, *) }

    /// Calls body(aOffset, bOffset, outOffset, length, aStep, bStep) for each inner run.
    @inlinable
    public func forEachRun(_ body: (Int, Int, Int, Int, Int, Int) -> Void) {
        let r = dims.count
        let inner = dims[r - 1], sa = aStrides[r - 1], sb = bStrides[r - 1]
        var index = [Int](repeating: 0, count: r)
        var ao = 0, bo = 0, oo = 0
        let total = dims.reduce(1, *)
        while oo < total {
            body(ao, bo, oo, inner, sa, sb)
            oo += inner
            var d = r - 2
            while d >= 0 {
                index[d] += 1; ao += aStrides[d]; bo += bStrides[d]
                if index[d] < dims[d] { break }
                ao -= aStrides[d] * dims[d]; bo -= bStrides[d] * dims[d]; index[d] = 0
                d -= 1
            }
        }
    }
}

public enum BinaryOp: Sendable { case add, mul }

extension Kernels {
    /// out (+)= a op b with broadcasting.
    @_specialize(exported: true, where Scalar == Float) @_specialize(exported: true, where Scalar == Double)
    public static func broadcastBinary<Scalar: TensorScalar>(_ plan: BroadcastPlan, _ op: BinaryOp,
                                                             a: UnsafePointer<Scalar>, b: UnsafePointer<Scalar>,
                                                             out: UnsafeMutablePointer<Scalar>, accumulate: Bool) {
        plan.forEachRun { ao, bo, oo, n, sa, sb in
            let (pa, pb, po) = (a + ao, b + bo, out + oo)
            switch (op, accumulate) {
            case (.add, false): for i in 0..<n { po[i] = pa[i * sa] + pb[i * sb] }
            case (.add, true): for i in 0..<n { po[i] += pa[i * sa] + pb[i * sb] }
            case (.mul, false): for i in 0..<n { po[i] = pa[i * sa] * pb[i * sb] }
            case (.mul, true): for i in 0..<n { po[i] += pa[i * sa] * pb[i * sb] }
            }
        }
    }

    /// target[a-index] += full[out-index] (optionally times b[b-index]): the adjoint of
    /// broadcasting operand a, where `full` has the plan's output shape.
    @_specialize(exported: true, where Scalar == Float) @_specialize(exported: true, where Scalar == Double)
    public static func broadcastReduce<Scalar: TensorScalar>(_ plan: BroadcastPlan, full: UnsafePointer<Scalar>,
                                                             times b: UnsafePointer<Scalar>?,
                                                             into target: UnsafeMutablePointer<Scalar>) {
        plan.forEachRun { ao, bo, oo, n, sa, sb in
            let (pt, pf) = (target + ao, full + oo)
            if let b {
                let pb = b + bo
                if sa == 0 { var s: Scalar = 0; for i in 0..<n { s += pf[i] * pb[i * sb] }; pt[0] += s }
                else { for i in 0..<n { pt[i] += pf[i] * pb[i * sb] } }
            } else {
                if sa == 0 { var s: Scalar = 0; for i in 0..<n { s += pf[i] }; pt[0] += s }
                else { for i in 0..<n { pt[i] += pf[i] } }
            }
        }
    }
}

extension Kernels {
    /// out[out-index] += a[a-index] where the plan was made from (a's shape, out's shape).
    @_specialize(exported: true, where Scalar == Float) @_specialize(exported: true, where Scalar == Double)
    public static func broadcastAccumulate<Scalar: TensorScalar>(_ plan: BroadcastPlan, a: UnsafePointer<Scalar>,
                                                                 out: UnsafeMutablePointer<Scalar>) {
        plan.forEachRun { ao, _, oo, n, sa, _ in
            let (pa, po) = (a + ao, out + oo)
            if sa == 0 { let v = pa[0]; for i in 0..<n { po[i] += v } } else { for i in 0..<n { po[i] += pa[i] } }
        }
    }
}
