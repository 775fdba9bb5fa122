/// NumPy `matmul` of a [..., M, K] by b [..., K, N] with broadcast batch dims, as a list of
/// GEMMs (folded into one when b is a plain matrix).
public struct MatMulPlan: Sendable, Equatable {
    public var m: Int, k: Int, n: Int
    public var outShape: [Int]
    /// Per output batch element: offsets of its a and b matrices.
    public var aOffsets: [Int]
    public var bOffsets: [Int]
    /// b is a single matrix shared by a contiguous a batch: one GEMM with batch*M rows.
    public var foldsIntoOneGemm: Bool

    public init(_ a: [Int], _ b: [Int]) throws(ShapeError) {
        guard !a.isEmpty, !b.isEmpty else { throw ShapeError("MatMul operands must not be scalars: \(a), \(b)") }
        let a2 = a.count == 1 ? [1, a[0]] : a
        let b2 = b.count == 1 ? [b[0], 1] : b
        m = a2[a2.count - 2]; k = a2[a2.count - 1]; n = b2[b2.count - 1]
        guard b2[b2.count - 2] == k else { throw ShapeError("MatMul inner dimensions differ: \(a) x \(b)") }
        let aBatch = Array(a2.dropLast(2)), bBatch = Array(b2.dropLast(2))
        let batch = try BroadcastPlan(aBatch.isEmpty ? [1] : aBatch, bBatch.isEmpty ? [1] : bBatch).outShape
        let batchShape = (aBatch.isEmpty && bBatch.isEmpty) ? [] : batch
        var out = batchShape
        if a.count > 1 { out.append(m) }
        if b.count > 1 { out.append(n) }
        outShape = out
        // offsets by walking the broadcast batch index
        let count = batch.reduce(1, *)
        let rank = batch.count
        let pa = Array(repeating: 1, count: rank - aBatch.count) + aBatch
        let pb = Array(repeating: 1, count: rank - bBatch.count) + bBatch
        var ao = [Int](), bo = [Int]()
        ao.reserveCapacity(count); bo.reserveCapacity(count)
        for flat in 0..<count {
            var rest = flat, ai = 0, bi = 0, aMul = 1, bMul = 1
            for d in stride(from: rank - 1, through: 0, by: -1) {
                let idx = rest % batch[d]; rest /= batch[d]
                if pa[d] != 1 { ai += idx * aMul }
                if pb[d] != 1 { bi += idx * bMul }
                aMul *= pa[d]; bMul *= pb[d]
            }
            ao.append(ai * m * k); bo.append(bi * k * n)
        }
        aOffsets = ao; bOffsets = bo
        foldsIntoOneGemm = bBatch.reduce(1, *) == 1 && aBatch.reduce(1, *) == count
    }

    public var batchCount: Int { aOffsets.count }
}

extension Kernels {
    /// out (+)= a @ b.
    @_specialize(exported: true, where Scalar == Float) @_specialize(exported: true, where Scalar == Double)
    public static func matMul<Scalar: TensorScalar>(_ p: MatMulPlan, a: UnsafePointer<Scalar>, b: UnsafePointer<Scalar>,
                                                    out: UnsafeMutablePointer<Scalar>, accumulate: Bool) {
        let beta: Scalar = accumulate ? 1 : 0
        if p.foldsIntoOneGemm {
            Kernels.gemm(transA: false, transB: false, m: p.batchCount * p.m, n: p.n, k: p.k, alpha: 1, a: a, lda: p.k,
                        b: b, ldb: p.n, beta: beta, c: out, ldc: p.n)
            return
        }
        for i in 0..<p.batchCount {
            Kernels.gemm(transA: false, transB: false, m: p.m, n: p.n, k: p.k, alpha: 1, a: a + p.aOffsets[i], lda: p.k,
                        b: b + p.bOffsets[i], ldb: p.n, beta: beta, c: out + i * p.m * p.n, ldc: p.n)
        }
    }

    /// da += g @ b^T, summed over broadcast batch dims (da must be initialised).
    @_specialize(exported: true, where Scalar == Float) @_specialize(exported: true, where Scalar == Double)
    public static func matMulBackwardA<Scalar: TensorScalar>(_ p: MatMulPlan, g: UnsafePointer<Scalar>,
                                                             b: UnsafePointer<Scalar>, da: UnsafeMutablePointer<Scalar>) {
        if p.foldsIntoOneGemm {
            Kernels.gemm(transA: false, transB: true, m: p.batchCount * p.m, n: p.k, k: p.n, alpha: 1, a: g, lda: p.n,
                        b: b, ldb: p.n, beta: 1, c: da, ldc: p.k)
            return
        }
        for i in 0..<p.batchCount {
            Kernels.gemm(transA: false, transB: true, m: p.m, n: p.k, k: p.n, alpha: 1, a: g + i * p.m * p.n, lda: p.n,
                        b: b + p.bOffsets[i], ldb: p.n, beta: 1, c: da + p.aOffsets[i], ldc: p.k)
        }
    }

    /// db += a^T @ g, summed over broadcast batch dims (db must be initialised).
    @_specialize(exported: true, where Scalar == Float) @_specialize(exported: true, where Scalar == Double)
    public static func matMulBackwardB<Scalar: TensorScalar>(_ p: MatMulPlan, a: UnsafePointer<Scalar>,
                                                             g: UnsafePointer<Scalar>, db: UnsafeMutablePointer<Scalar>) {
        if p.foldsIntoOneGemm {
            Kernels.gemm(transA: true, transB: false, m: p.k, n: p.n, k: p.batchCount * p.m, alpha: 1, a: a, lda: p.k,
                        b: g, ldb: p.n, beta: 1, c: db, ldc: p.n)
            return
        }
        for i in 0..<p.batchCount {
            Kernels.gemm(transA: true, transB: false, m: p.k, n: p.n, k: p.m, alpha: 1, a: a + p.aOffsets[i], lda: p.k,
                        b: g + i * p.m * p.n, ldb: p.n, beta: 1, c: db + p.bOffsets[i], ldc: p.n)
        }
    }
}
