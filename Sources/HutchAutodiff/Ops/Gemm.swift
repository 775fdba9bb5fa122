import HutchModel
import HutchTensor

/// Gemm: Y = alpha op(A) op(B) + beta C. Bilinear in (A, B); the k stacked blocks are handled
/// one GEMM per block.
struct GemmRule: OpRule {
    let attributes: GemmAttributes

    func accepts(_ inputs: [ValueID?]) -> Bool { (2...3).contains(inputs.count) && inputs[0] != nil && inputs[1] != nil }

    @_specialize(where S == Float)
    func forward<S: TensorScalar>(_ c: OpCall<S>, _ tape: inout Tape<S>) throws(ExecutionError) -> Stacked<S> {
        try c.e.gemmForward(c.node, attributes, c.x)
    }

    @_specialize(where S == Float)
    func tangent<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ t: [Stacked<S>?], k: Int, _ tape: Tape<S>) throws(ExecutionError) -> Stacked<S>? {
        try c.e.gemmTangent(c.node, attributes, c.x, y, t, k)
    }

    @_specialize(where S == Float)
    func transpose<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ cot: Stacked<S>, need: [Bool], _ tape: Tape<S>) throws(ExecutionError) -> [Stacked<S>?] {
        try c.e.gemmTranspose(c.node, attributes, c.x, cot, need)
    }

    var hasCurvature: Bool { true }
    func reverseReads(need: [Bool]) -> TapeReads { .otherOperand(need) }

    @_specialize(where S == Float)
    func curvature<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ t: [Stacked<S>?], _ cot: Stacked<S>, need: [Bool], k: Int,
                                    _ tape: Tape<S>, adding existing: [Stacked<S>?]) throws(ExecutionError) -> [Stacked<S>?] {
        existing.summed(with: try c.e.gemmCurvature(c.node, attributes, c.x, t, cot, need, k))
    }
}

struct GemmShape {
    var m: Int, n: Int, k: Int
    var cPlan: BroadcastPlan?
}

extension Executor {
    func gemmShape(_ node: Node, _ a: GemmAttributes, _ x: [Stacked<Scalar>?]) throws(ExecutionError) -> GemmShape {
        let (sa, sb) = (x[0]!.shape, x[1]!.shape)
        guard sa.count == 2, sb.count == 2 else {
            throw ExecutionError.node(node, "Gemm operands must be matrices, got \(sa) and \(sb)")
        }
        let (m, ka) = a.transA ? (sa[1], sa[0]) : (sa[0], sa[1])
        let (kb, n) = a.transB ? (sb[1], sb[0]) : (sb[0], sb[1])
        guard ka == kb else { throw ExecutionError.node(node, "Gemm inner dimensions differ: \(sa) and \(sb) (transA \(a.transA), transB \(a.transB))") }
        var shape = GemmShape(m: m, n: n, k: ka, cPlan: nil)
        if x.count > 2, let c = x[2] {
            let plan = try shaped(node) { () throws(ShapeError) in try BroadcastPlan(c.shape, [m, n]) }
            guard plan.outShape == [m, n] else {
                throw ExecutionError.node(node, "Gemm C of shape \(c.shape) does not broadcast to [\(m), \(n)]")
            }
            shape.cPlan = plan
        }
        return shape
    }

    /// out (+)= alpha op(a) op(b) for one block.
    func gemmProduct(_ at: GemmAttributes, _ s: GemmShape, _ a: UnsafePointer<Scalar>, _ b: UnsafePointer<Scalar>,
                     _ out: UnsafeMutablePointer<Scalar>, accumulate: Bool) {
        Kernels.gemm(transA: at.transA, transB: at.transB, m: s.m, n: s.n, k: s.k, alpha: Scalar(at.alpha),
                    a: a, lda: at.transA ? s.m : s.k, b: b, ldb: at.transB ? s.k : s.n,
                    beta: accumulate ? 1 : 0, c: out, ldc: s.n)
    }

    /// dA += transpose of the product in A (g: [M, N]).
    func gemmGradA(_ at: GemmAttributes, _ s: GemmShape, _ g: UnsafePointer<Scalar>, _ b: UnsafePointer<Scalar>,
                   _ da: UnsafeMutablePointer<Scalar>) {
        let alpha = Scalar(at.alpha), ldb = at.transB ? s.k : s.n
        if at.transA {   // dA [K, M] = alpha op(B) g^T
            Kernels.gemm(transA: at.transB, transB: true, m: s.k, n: s.m, k: s.n, alpha: alpha, a: b, lda: ldb,
                        b: g, ldb: s.n, beta: 1, c: da, ldc: s.m)
        } else {         // dA [M, K] = alpha g op(B)^T
            Kernels.gemm(transA: false, transB: !at.transB, m: s.m, n: s.k, k: s.n, alpha: alpha, a: g, lda: s.n,
                        b: b, ldb: ldb, beta: 1, c: da, ldc: s.k)
        }
    }

    /// dB += transpose of the product in B.
    func gemmGradB(_ at: GemmAttributes, _ s: GemmShape, _ a: UnsafePointer<Scalar>, _ g: UnsafePointer<Scalar>,
                   _ db: UnsafeMutablePointer<Scalar>) {
        let alpha = Scalar(at.alpha), lda = at.transA ? s.m : s.k
        if at.transB {   // dB [N, K] = alpha g^T op(A)
            Kernels.gemm(transA: true, transB: at.transA, m: s.n, n: s.k, k: s.m, alpha: alpha, a: g, lda: s.n,
                        b: a, ldb: lda, beta: 1, c: db, ldc: s.k)
        } else {         // dB [K, N] = alpha op(A)^T g
            Kernels.gemm(transA: !at.transA, transB: false, m: s.k, n: s.n, k: s.m, alpha: alpha, a: a, lda: lda,
                        b: g, ldb: s.n, beta: 1, c: db, ldc: s.n)
        }
    }

    func gemmForward(_ node: Node, _ at: GemmAttributes, _ x: [Stacked<Scalar>?]) throws(ExecutionError) -> Stacked<Scalar> {
        let s = try gemmShape(node, at, x)
        let y = Stacked<Scalar>(shape: [s.m, s.n])
        gemmProduct(at, s, x[0]!.pointer, x[1]!.pointer, y.pointer, accumulate: false)
        if let plan = s.cPlan, let c = x[2] { addScaledBroadcast(plan, Scalar(at.beta), c.pointer, y.pointer, s) }
        return y
    }

    private func addScaledBroadcast(_ plan: BroadcastPlan, _ beta: Scalar, _ c: UnsafePointer<Scalar>,
                                    _ y: UnsafeMutablePointer<Scalar>, _ s: GemmShape) {
        if beta == 1 { Kernels.broadcastAccumulate(plan, a: c, out: y); return }
        let tmp = Stacked<Scalar>(shape: [s.m, s.n])
        Kernels.broadcastAccumulate(plan, a: c, out: tmp.pointer)
        Kernels.axpy(beta, x: tmp.pointer, y: y, count: s.m * s.n)
    }

    func gemmTangent(_ node: Node, _ at: GemmAttributes, _ x: [Stacked<Scalar>?], _ y: Stacked<Scalar>,
                     _ t: [Stacked<Scalar>?], _ k: Int) throws(ExecutionError) -> Stacked<Scalar>? {
        let tc = t.count > 2 ? t[2] : nil
        guard t[0] != nil || t[1] != nil || tc != nil else { return nil }
        let s = try gemmShape(node, at, x)
        let out = Stacked<Scalar>(shape: y.shape, blocks: k)
        for j in 0..<k {
            if let ta = t[0] { gemmProduct(at, s, ta.block(j), x[1]!.pointer, out.block(j), accumulate: true) }
            if let tb = t[1] { gemmProduct(at, s, x[0]!.pointer, tb.block(j), out.block(j), accumulate: true) }
            if let tc, let plan = s.cPlan { addScaledBroadcast(plan, Scalar(at.beta), tc.block(j), out.block(j), s) }
        }
        return out
    }

    func gemmTranspose(_ node: Node, _ at: GemmAttributes, _ x: [Stacked<Scalar>?], _ cot: Stacked<Scalar>,
                       _ need: [Bool]) throws(ExecutionError) -> [Stacked<Scalar>?] {
        let s = try gemmShape(node, at, x)
        let m = cot.blocks
        var result: [Stacked<Scalar>?] = Array(repeating: nil, count: x.count)
        if need[0] {
            let da = Stacked<Scalar>(shape: x[0]!.shape, blocks: m)
            for j in 0..<m { gemmGradA(at, s, cot.block(j), x[1]!.pointer, da.block(j)) }
            result[0] = da
        }
        if need[1] {
            let db = Stacked<Scalar>(shape: x[1]!.shape, blocks: m)
            for j in 0..<m { gemmGradB(at, s, x[0]!.pointer, cot.block(j), db.block(j)) }
            result[1] = db
        }
        if x.count > 2, need[2], let c = x[2], let plan = s.cPlan {
            let dc = Stacked<Scalar>(shape: c.shape, blocks: m)
            for j in 0..<m { Kernels.broadcastReduce(plan, full: cot.block(j), times: nil, into: dc.block(j)) }
            if at.beta != 1 { Kernels.axpy(Scalar(at.beta) - 1, x: dc.pointer, y: dc.pointer, count: dc.count) }
            result[2] = dc
        }
        return result
    }

    func gemmCurvature(_ node: Node, _ at: GemmAttributes, _ x: [Stacked<Scalar>?], _ t: [Stacked<Scalar>?],
                       _ cot: Stacked<Scalar>, _ need: [Bool], _ k: Int) throws(ExecutionError) -> [Stacked<Scalar>?] {
        let s = try gemmShape(node, at, x)
        var result: [Stacked<Scalar>?] = Array(repeating: nil, count: x.count)
        if need[0], let tb = t[1] {
            let da = Stacked<Scalar>(shape: x[0]!.shape, blocks: k)
            for j in 0..<k { gemmGradA(at, s, cot.pointer, tb.block(j), da.block(j)) }
            result[0] = da
        }
        if need[1], let ta = t[0] {
            let db = Stacked<Scalar>(shape: x[1]!.shape, blocks: k)
            for j in 0..<k { gemmGradB(at, s, ta.block(j), cot.pointer, db.block(j)) }
            result[1] = db
        }
        return result
    }
}
