import CBLAS
import Foundation

extension Kernels {
    /// Threads the kernels use. Convolutions split their examples between threads, each running
    /// single-threaded GEMMs on its own chunks: on 2 cores this beat OpenBLAS's own threading of
    /// the same GEMMs by far, which spends its time yielding between many medium calls. So
    /// OpenBLAS is set to one thread the first time this is read. Read HUTCH_THREADS, else the
    /// active processor count.
    public static let threads: Int = {
        openblas_set_num_threads(1)
        if let text = ProcessInfo.processInfo.environment["HUTCH_THREADS"], let n = Int(text), n >= 1 { return n }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Runs body(i) for i in 0..<count, spread over `threads` threads (contiguous ranges) when
    /// there is more than one iteration. Iterations must write disjoint memory.
    public static func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        let p = min(count, threads)
        if p < 2 {
            for i in 0..<count { body(i) }
            return
        }
        withoutActuallyEscaping(body) { body in
            // iterations write disjoint memory (the caller's contract), so sharing is safe
            nonisolated(unsafe) let shared = body
            DispatchQueue.concurrentPerform(iterations: p) { t in
                for i in (count * t / p)..<(count * (t + 1) / p) { shared(i) }
            }
        }
    }

    /// Splits 0..<count into pieces of at least `grain` for pointwise loops.
    public static func parallelRanges(_ count: Int, grain: Int = 1 << 15, _ body: (Range<Int>) -> Void) {
        let pieces = max(1, min(threads, count / max(grain, 1)))
        if pieces < 2 { body(0..<count); return }
        parallelFor(pieces) { t in body((count * t / pieces)..<(count * (t + 1) / pieces)) }
    }
}

extension Kernels {
    /// A GEMM outside the convolution kernels (Gemm, MatMul): large ones let OpenBLAS use all
    /// `threads`, small ones stay on the calling thread. Splitting never changes the reduction
    /// order of an element, so the bits are the same either way.
    public static func gemm<Scalar: TensorScalar>(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                                                  alpha: Scalar, a: UnsafePointer<Scalar>, lda: Int,
                                                  b: UnsafePointer<Scalar>, ldb: Int,
                                                  beta: Scalar, c: UnsafeMutablePointer<Scalar>, ldc: Int) {
        let large = threads > 1 && m * n * k >= (1 << 22)
        if large { openblas_set_num_threads(Int32(threads)) }
        Scalar.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                    beta: beta, c: c, ldc: ldc)
        if large { openblas_set_num_threads(1) }
    }
}
