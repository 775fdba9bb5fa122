/// How `conv2DPerExampleWeightGradientSquaredNorms` computes a norm (`automatic` picks the
/// cheaper by MAC count; the others exist so tests can compare the two on one geometry).
public enum PerExampleNormMethod: Sendable {
    case automatic
    /// ||G X^T||^2 with the [C_out, patch] gradient G X^T built by one GEMM per example.
    case materialized
    /// sum_pq (G^T G)_pq (X^T X)_pq over output positions p, q, as sum((G Gx) .* G) with the
    /// position Gram Gx = X^T X built once per example and shared by every seed: cheaper when
    /// there are fewer output positions than patch rows (late, small-resolution layers).
    case gram
}

extension Kernels {
    /// Squared Frobenius norms of per-example weight gradients: for every block s (seed) and
    /// example n, || sum_p dy[s, n, :, p] col(x[n])[:, p]^T ||^2 into norms[s * N + n].
    /// x holds one block of N examples; dy holds `blocks` blocks. Each (seed, example) norm is
    /// computed by one thread in a fixed order: the bits do not depend on the thread count.
    /// Seeds share GEMMs in groups of `stack` (blocks 0..<stack, stack..<2 stack, ...): OpenBLAS's
    /// bits for a row depend on the rows sharing its call, so a seed's norm depends only on the
    /// seeds of its group, and callers that cut seeds into calls at multiples of `stack` get the
    /// same bits however they cut them.
    @_specialize(exported: true, where Scalar == Float) @_specialize(exported: true, where Scalar == Double)
    public static func conv2DPerExampleWeightGradientSquaredNorms<Scalar: TensorScalar>(
        _ g: ConvGeometry, blocks: Int,
        x: UnsafePointer<Scalar>, dy: UnsafePointer<Scalar>, norms: UnsafeMutablePointer<Scalar>,
        method: PerExampleNormMethod = .automatic, stack: Int = 1
    ) {
        let (n, cout, os, patch, coutG) = (g.batch, g.outChannels, g.outSpatial, g.patchSize, g.outChannelsPerGroup)
        let rows = g.inChannels * g.kernelHeight * g.kernelWidth
        let gram = method == .gram || (method == .automatic && gramIsCheaper(g, blocks: blocks))
        // per thread: im2col, the position Gram, one seed group's gradients and GEMM result
        // ([stack * C_out/group] x patch materialized, or x positions for the Gram form)
        let stack = max(1, min(stack, blocks))
        let prodCount = stack * coutG * (gram ? os : patch)
        let gramCount = gram ? os * os : 0
        norms.update(repeating: 0, count: blocks * n)
        let p = threads   // once: a body on another thread would read that thread's budget
        parallelFor(p) { t in
            let col = BufferPool.shared.scratch(rows * os, of: Scalar.self)
            let prod = BufferPool.shared.scratch(prodCount, of: Scalar.self)
            let gmat = BufferPool.shared.scratch(stack * coutG * os, of: Scalar.self)
            let gx = BufferPool.shared.scratch(gramCount, of: Scalar.self)
            defer {
                BufferPool.shared.release(col, rows * os); BufferPool.shared.release(gmat, stack * coutG * os)
                BufferPool.shared.release(prod, prodCount); BufferPool.shared.release(gx, gramCount)
            }
            for e in stride(from: t, to: n, by: p) {
                im2col(g, x: x + e * g.inChannels * g.inSpatial, col: col, ld: os)
                for grp in 0..<g.group {
                    let xg = col + grp * patch * os
                    if gram {
                        Scalar.gemm(transA: true, transB: false, m: os, n: os, k: patch, alpha: 1,
                                    a: xg, lda: os, b: xg, ldb: os, beta: 0, c: gx, ldc: os)
                    }
                    for s0 in stride(from: 0, to: blocks, by: stack) {
                        let k = min(stack, blocks - s0)
                        // gradient rows [k * C_out/group, P] of seeds s0..<s0+k for this group and
                        // example (gathered unless there is one seed)
                        let gs: UnsafePointer<Scalar>
                        if k == 1 {
                            gs = dy + ((s0 * n + e) * cout + grp * coutG) * os
                        } else {
                            for j in 0..<k {
                                (gmat + j * coutG * os).update(from: dy + (((s0 + j) * n + e) * cout + grp * coutG) * os,
                                                               count: coutG * os)
                            }
                            gs = UnsafePointer(gmat)
                        }
                        if gram {
                            Scalar.gemm(transA: false, transB: false, m: k * coutG, n: os, k: os, alpha: 1,
                                        a: gs, lda: os, b: gx, ldb: os, beta: 0, c: prod, ldc: os)
                        } else {
                            Scalar.gemm(transA: false, transB: true, m: k * coutG, n: patch, k: os, alpha: 1,
                                        a: gs, lda: os, b: xg, ldb: os, beta: 0, c: prod, ldc: patch)
                        }
                        let per = coutG * (gram ? os : patch)
                        for j in 0..<k {
                            let p = prod + j * per
                            norms[(s0 + j) * n + e] += Scalar(sumOfProducts(p, gram ? gs + j * coutG * os : UnsafePointer(p), count: per))
                        }
                    }
                }
            }
        }
    }

    /// The cost rule of `.automatic`: multiply-adds per example of the Gram form (one position
    /// Gram, then a [C_out/group, P] x [P, P] product per seed) against the materialized one.
    public static func gramIsCheaper(_ g: ConvGeometry, blocks: Int) -> Bool {
        let (p, patch, coutG) = (g.outSpatial, g.patchSize, g.outChannelsPerGroup)
        return p * p * patch + blocks * coutG * p * p < blocks * coutG * patch * p
    }

    /// sum_i a[i] * b[i] with 8 independent partial sums (the loop is bound by add latency
    /// otherwise), each block of 512 added into a Double. A fixed order: deterministic.
    @inlinable
    static func sumOfProducts<Scalar: TensorScalar>(_ a: UnsafePointer<Scalar>, _ b: UnsafePointer<Scalar>,
                                                    count: Int) -> Double {
        var total: Double = 0
        var i = 0
        while i < count {
            let end = min(count, i + 512)
            var s0: Scalar = 0, s1: Scalar = 0, s2: Scalar = 0, s3: Scalar = 0
            var s4: Scalar = 0, s5: Scalar = 0, s6: Scalar = 0, s7: Scalar = 0
            while i + 8 <= end {
                s0 += a[i] * b[i]; s1 += a[i + 1] * b[i + 1]; s2 += a[i + 2] * b[i + 2]; s3 += a[i + 3] * b[i + 3]
                s4 += a[i + 4] * b[i + 4]; s5 += a[i + 5] * b[i + 5]; s6 += a[i + 6] * b[i + 6]; s7 += a[i + 7] * b[i + 7]
                i += 8
            }
            while i < end { s0 += a[i] * b[i]; i += 1 }
            total += Double(((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)))
        }
        return total
    }
}
